// The packaged archives serve real requests: each function's index.js, as the
// Pulumi program hands it to the engine, runs in a fresh Node process with the
// program's environment, pointed at DynamoDB Local (sync functions) or at moto and
// a loopback JWKS (auth-sync, authorizer) through the SDK's endpoint variables.
import { AdminCreateUserCommand, AdminGetUserCommand, CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { VERSION_STEP } from "../../lib/limits";
import { randomUUID } from "node:crypto";
import { createTestTables, localEndpoint, TestTables } from "../helpers/dynamo";
import { googleClaims, JwksServer, signToken, startJwksServer, TEST_AUDIENCE, TEST_ISSUER } from "../helpers/jwks";
import { MotoServer, startMoto } from "../helpers/moto";
import { deployedArchives, type DeployedArchives } from "./archives";

jest.setTimeout(120_000);
let archives: DeployedArchives;
let tables: TestTables;
beforeAll(async () => {
  [archives, tables] = await Promise.all([deployedArchives("prod"), createTestTables("pkg")]);
});
afterAll(async () => {
  archives?.cleanup();
  await tables?.drop();
});

const proxyEvent = (userId: string, body: unknown) => ({
  body: JSON.stringify(body),
  isBase64Encoded: false,
  headers: { "Content-Type": "application/json" },
  requestContext: { requestId: randomUUID(), authorizer: { userId, email: `${userId}@example.com`, principalId: userId } },
});

const dynamoEnv = () => ({
  PIECES_TABLE: tables.piecesTable,
  SESSIONS_TABLE: tables.sessionsTable,
  AWS_ENDPOINT_URL_DYNAMODB: localEndpoint(),
});

test("the sync-pieces archive stores a piece and serves it to another device", async () => {
  const piece = {
    pieceId: randomUUID().toUpperCase(),
    userId: "ignored",
    title: "Aloha ʻOe",
    category: "mele",
    lyrics: "Haʻaheo ka ua i nā pali",
    includeInPractice: true,
    isFavorite: false,
    createdAt: "2025-06-01T08:00:00Z",
    modifiedAt: "2025-06-18T12:30:00Z",
    version: 1,
    locallyModified: true,
  };
  const push: any = await archives.invoke("sync-pieces", proxyEvent("pkg-user", { operation: "sync", pieces: [piece] }), dynamoEnv());
  expect(push.error).toBeUndefined();
  expect(push.result.statusCode).toBe(200);
  const pushed = JSON.parse(push.result.body);
  expect(pushed.uploadedPieces).toEqual([piece.pieceId]);

  const pull: any = await archives.invoke("sync-pieces", proxyEvent("pkg-user", { operation: "sync", pieces: [] }), dynamoEnv());
  const body = JSON.parse(pull.result.body);
  expect(body.serverPieces).toEqual([
    {
      ...piece,
      userId: "pkg-user",
      language: "haw",
      createdAt: "2025-06-01T08:00:00.000Z",
      modifiedAt: "2025-06-18T12:30:00.000Z",
      version: VERSION_STEP,
      locallyModified: false,
    },
  ]);

  const bad: any = await archives.invoke("sync-pieces", proxyEvent("pkg-user", { operation: "sync", protocol: 2, pieces: [{ ...piece, category: "hula" }] }), dynamoEnv());
  expect(bad.result.statusCode).toBe(200);
  expect(JSON.parse(bad.result.body).refusedPieces).toEqual([expect.objectContaining({ pieceId: piece.pieceId, code: "invalid_piece" })]);
  const notAnObject: any = await archives.invoke("sync-pieces", proxyEvent("pkg-user", { operation: "sync" }), dynamoEnv());
  expect(notAnObject.result.statusCode).toBe(400);
  expect(JSON.parse(notAnObject.result.body).error.code).toBe("invalid_request");
});

test("the sync-sessions archive stores a session idempotently", async () => {
  const session = {
    sessionId: randomUUID().toUpperCase(),
    userId: "pkg-user-2",
    pieceId: randomUUID().toUpperCase(),
    startedAt: "2025-06-18T07:00:00Z",
    endedAt: "2025-06-18T07:12:30Z",
    createdAt: "2025-06-18T07:00:00Z",
  };
  for (let i = 0; i < 2; i++) {
    const r: any = await archives.invoke("sync-sessions", proxyEvent("pkg-user-2", { sessions: [session] }), dynamoEnv());
    expect(JSON.parse(r.result.body).uploadedSessions).toEqual([session.sessionId]);
  }
  const other: any = await archives.invoke("sync-sessions", proxyEvent("pkg-user-2", { sessions: [] }), dynamoEnv());
  const ms = (d: string) => d.replace("Z", ".000Z");
  expect(JSON.parse(other.result.body).serverSessions).toEqual([
    { ...session, startedAt: ms(session.startedAt), endedAt: ms(session.endedAt), createdAt: ms(session.createdAt) },
  ]);
});

describe("with moto and a loopback JWKS", () => {
  let moto: MotoServer;
  let jwks: JwksServer;
  let userPoolId: string;
  beforeAll(async () => {
    [moto, jwks] = await Promise.all([startMoto(), startJwksServer()]);
    const c = new CognitoIdentityProviderClient(moto.clientConfig);
    userPoolId = (await c.send(new CreateUserPoolCommand({ PoolName: "pkg-pool" }))).UserPool!.Id!;
    c.destroy();
  });
  afterAll(async () => {
    await moto?.stop();
    await jwks?.close();
  });
  const authEnv = () => ({ AUTH_JWKS_URI: jwks.url, AUTH_ISSUERS: TEST_ISSUER, AUTH_AUDIENCES: TEST_AUDIENCE });

  test("the authorizer archive allows a valid token with the user in its context", async () => {
    const token = await signToken(jwks.key, googleClaims({ sub: "4242", email: "k@example.com" }));
    const r: any = await archives.invoke(
      "authorizer",
      { type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn: "arn:aws:execute-api:us-west-2:123456789012:abc/prod/POST/pieces" },
      authEnv(),
    );
    expect(r.result.context).toEqual({ userId: "4242", email: "k@example.com" });
  });

  test("the user-export archive answers 302 to a presigned link to the document in its bucket; consent-status 501", async () => {
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "pkg-exports", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
    s3.destroy();
    const piece = { pieceId: randomUUID().toUpperCase(), title: "Exported", category: "oli", lyrics: "E hō mai", includeInPractice: true, isFavorite: false, createdAt: "2025-06-01T08:00:00Z", modifiedAt: "2025-06-01T08:00:00Z", version: 1, locallyModified: true };
    await archives.invoke("sync-pieces", proxyEvent("pkg-exporter", { operation: "sync", pieces: [piece] }), dynamoEnv());
    const env = { ...dynamoEnv(), EXPORT_BUCKET: "pkg-exports", AWS_ENDPOINT_URL_S3: moto.endpoint };
    const event = (resource: string) => ({ ...proxyEvent("pkg-exporter", null), body: null, httpMethod: "GET", resource, pathParameters: { userId: "pkg-exporter" } });
    expect(archives.environment("user-export").EXPORT_OBJECT_TAGGING).toBe("Project=Haumana&Environment=Production&CostCenter=Haumana");
    const r: any = await archives.invoke("user-export", event("/users/{userId}/export"), env);
    expect(r.result.statusCode).toBe(302);
    const doc: any = await (await fetch(r.result.headers.Location)).json();
    expect(doc).toMatchObject({ formatVersion: 1, userId: "pkg-exporter", pieces: [expect.objectContaining({ pieceId: piece.pieceId, title: "Exported" })], sessions: [] });
    const consent: any = await archives.invoke("user-export", event("/users/{userId}/consent-status"), env);
    expect(consent.result.statusCode).toBe(501);
  });

  test("the user-delete archive deletes the user's data and google_<sub>, and answers 204", async () => {
    const c = new CognitoIdentityProviderClient(moto.clientConfig);
    await c.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: "google_pkg-leaving", MessageAction: "SUPPRESS" }));
    const piece = { pieceId: randomUUID().toUpperCase(), title: "Going", category: "mele", lyrics: "Aloha", includeInPractice: true, isFavorite: false, createdAt: "2025-06-01T08:00:00Z", modifiedAt: "2025-06-01T08:00:00Z", version: 1, locallyModified: true };
    await archives.invoke("sync-pieces", proxyEvent("pkg-leaving", { operation: "sync", pieces: [piece] }), dynamoEnv());
    const event = { ...proxyEvent("pkg-leaving", null), body: null, httpMethod: "DELETE", resource: "/users/{userId}", pathParameters: { userId: "pkg-leaving" } };
    const r: any = await archives.invoke("user-delete", event, { ...dynamoEnv(), USER_POOL_ID: userPoolId, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: moto.endpoint });
    expect(r.result).toMatchObject({ statusCode: 204, body: "" });
    await expect(c.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: "google_pkg-leaving" }))).rejects.toMatchObject({ name: "UserNotFoundException" });
    const pull: any = await archives.invoke("sync-pieces", proxyEvent("pkg-leaving", { operation: "sync", pieces: [] }), dynamoEnv());
    expect(JSON.parse(pull.result.body).serverPieces).toEqual([]);
    c.destroy();
  });

  test("the auth-sync archive creates google_<sub> in the user pool", async () => {
    const token = await signToken(jwks.key, googleClaims({ sub: "777", email: "s@example.com", name: "Seven" }));
    const r: any = await archives.invoke(
      "auth-sync",
      { body: JSON.stringify({ googleIdToken: token }), isBase64Encoded: false, requestContext: { requestId: "x" } },
      { ...authEnv(), USER_POOL_ID: userPoolId, AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: moto.endpoint },
    );
    expect(r.result.statusCode).toBe(200);
    expect(JSON.parse(r.result.body)).toEqual({
      success: true,
      user: expect.objectContaining({ id: "777", email: "s@example.com", username: "google_777" }),
    });
  });
});
