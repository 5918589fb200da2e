// Issue 10 through the real route handlers (functions/core/account-routes.ts) on
// DynamoDB Local and moto (S3 for the export, Cognito for the deletion), with the
// event API Gateway sends after the authorizer: the export redirects to a link that
// serves exactly what the sync API sends; another user's token gets 403 on both
// routes, the same whether or not that user exists, and nothing is read or written;
// a deletion removes every item of the user and the Cognito user, leaves everyone
// else byte for byte, and a failure half-way (DynamoDB or Cognito) is completed by
// the retry. (10,000 pieces, over HTTP: account-data-http.integration.test.ts.)
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CreateBucketCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { randomUUID } from "node:crypto";
import { consentStatusRoute, deleteUserRoute, exportRoute, ProxyHandler } from "../functions/core/account-routes";
import { s3ExportLinks } from "../functions/core/export-link";
import { EXPORT_FORMAT_VERSION, EXPORT_KEY_PREFIX, EXPORT_LINK_SECONDS, exportObjectTagging } from "../lib/exports";
import { Device, DeviceClock } from "./helpers/device";
import { FaultyClient, withFaults } from "./helpers/faults";
import { MotoServer, startMoto } from "./helpers/moto";
import { createHarness, Harness } from "./helpers/sync-harness";
import { canonicalItems, scanTable } from "./helpers/dynamo";

jest.setTimeout(120_000);

const TAGS = { Project: "Haumana", Environment: "Test", CostCenter: "Haumana" };
const BUCKET = "haumana-test-exports";

let h: Harness;
let faults: FaultyClient;
let moto: MotoServer;
let s3: S3Client;
let cognito: CognitoIdentityProviderClient;
let userPoolId: string;
let routes: { export: ProxyHandler; delete: ProxyHandler; consent: ProxyHandler };
/** Cognito as the deletion sees it: the real moto client, unless a test makes it fail. */
let cognitoFails = 0;

beforeAll(async () => {
  [h, moto] = await Promise.all([
    createHarness("acctdata", { doc: (doc) => (faults = withFaults(doc)).doc, store: { sleep: async () => undefined, maxAttempts: 3 } }),
    startMoto(),
  ]);
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
  cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  userPoolId = (await cognito.send(new CreateUserPoolCommand({ PoolName: "haumana-test-users" }))).UserPool!.Id!;
  const registry = {
    userPoolId,
    cognito: {
      send: async (command: any) => {
        if (cognitoFails > 0) {
          cognitoFails--;
          throw Object.assign(new Error("injected: Cognito unavailable"), { name: "InternalErrorException", $metadata: { httpStatusCode: 500 } });
        }
        return cognito.send(command);
      },
    },
  };
  routes = {
    export: exportRoute(h.store, s3ExportLinks({ s3, bucket: BUCKET, tagging: exportObjectTagging(TAGS) })),
    delete: deleteUserRoute(h.store, registry),
    consent: consentStatusRoute(),
  };
});
afterAll(async () => {
  await h?.done();
  s3?.destroy();
  cognito?.destroy();
  await moto?.stop();
});
afterEach(() => {
  faults.clear();
  faults.decide = undefined;
  cognitoFails = 0;
});

/** The proxy event API Gateway sends for `GET|DELETE /users/{pathUser}...` with `caller`'s token. */
function event(method: "GET" | "DELETE", resource: string, pathUser: string, caller: string) {
  return {
    body: null,
    isBase64Encoded: false,
    httpMethod: method,
    resource,
    pathParameters: { userId: pathUser },
    requestContext: { authorizer: { userId: caller, email: `${caller}@example.com` }, requestId: randomUUID() },
  };
}
const exportAs = (pathUser: string, caller = pathUser) => routes.export(event("GET", "/users/{userId}/export", pathUser, caller));
const deleteAs = (pathUser: string, caller = pathUser) => routes.delete(event("DELETE", "/users/{userId}", pathUser, caller));

async function scan(): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  for (const table of [h.tables.piecesTable, h.tables.sessionsTable]) out.push(...(await scanTable(h.tables.doc, table)).map((i) => ({ table, ...i })));
  return out;
}
const canonical = canonicalItems;
const exportObjects = async () => (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).KeyCount ?? 0;

/** A user with edited pieces, one deleted (a tombstone), sessions (one ended later), and a second device. */
async function userWithData(user: string, pieces = 12) {
  const clock = new DeviceClock(Date.now() - 60 * 60_000);
  const a = new Device("a", user, h.transport(user), clock);
  for (let i = 0; i < pieces; i++) a.createPiece({ title: `${user} ${i}`, notes: i % 2 ? `note ${i}` : undefined });
  const ids = [...a.pieces.keys()];
  for (let i = 0; i < 4; i++) a.recordSession(ids[i]);
  const open = a.recordSession(ids[4], false);
  await a.syncNow();
  a.edit(ids[1], { title: `${user} 1, edited` });
  a.toggleFavorite(ids[2]);
  a.endSession(open.sessionId);
  await a.syncNow();
  const first = a.pieces.get(ids[0])!;
  const del = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], deletedPieces: [{ pieceId: first.pieceId, version: first.version }] });
  expect(del.body.acceptedDeletes).toEqual([first.pieceId]);
  await cognito.send(new AdminCreateUserCommand({ UserPoolId: userPoolId, Username: `google_${user}`, MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: `${user}@example.com` }] }));
  return { a, deletedPiece: first.pieceId };
}

/** Every piece the sync API serves the user (protocol 2, paged), and every session. */
async function asTheSyncApiSendsThem(user: string) {
  const pieces: any[] = [];
  let cursor: string | undefined;
  do {
    const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], limit: 2000, ...(cursor ? { cursor } : {}) });
    pieces.push(...r.body.serverPieces);
    cursor = r.body.hasMore ? r.body.cursor : undefined;
  } while (cursor);
  const sessions = (await h.call("/sessions", user, { sessions: [] })).body.serverSessions;
  const byId = (k: string) => (x: any, y: any) => x[k].localeCompare(y[k]);
  return { pieces: pieces.sort(byId("pieceId")), sessions: [...sessions].sort(byId("sessionId")) };
}

test("export: a 302 to a link valid a few minutes; it serves every piece exactly as the sync API sends it, every session, nothing internal", async () => {
  const user = `exporter-${randomUUID()}`;
  const { deletedPiece } = await userWithData(user);
  await userWithData(`bystander-${randomUUID()}`);
  const before = Date.now();
  const res = await exportAs(user);
  expect(res.statusCode).toBe(302);
  expect(res.body).toBe("");
  const location = String(res.headers!.Location);
  const url = new URL(location);
  expect(url.pathname).toMatch(new RegExp(`^/${BUCKET}/${EXPORT_KEY_PREFIX}[0-9a-f-]{36}\\.json$`));
  expect(url.searchParams.get("X-Amz-Expires")).toBe(String(EXPORT_LINK_SECONDS));
  expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  // The link names no user, and the log line carries neither the link nor any content.
  expect(location).not.toContain(user);
  const line = h.logs.filter((l) => l.includes("GET /users/{userId}/export")).pop()!;
  expect(JSON.parse(line)).toMatchObject({ status: 302, pieces: 11, sessions: 5 });
  expect(line).not.toContain(url.searchParams.get("X-Amz-Signature")!);

  const got = await fetch(location);
  expect(got.status).toBe(200);
  expect(got.headers.get("content-type")).toMatch(/^application\/json/);
  expect(got.headers.get("content-disposition")).toMatch(/^attachment; filename="haumana-export-\d{4}-\d{2}-\d{2}\.json"$/);
  const text = await got.text();
  const doc = JSON.parse(text);
  expect(Object.keys(doc)).toEqual(["formatVersion", "exportedAt", "userId", "pieces", "sessions"]);
  expect(doc.formatVersion).toBe(EXPORT_FORMAT_VERSION);
  expect(doc.userId).toBe(user);
  expect(Date.parse(doc.exportedAt)).toBeGreaterThanOrEqual(before - 1000);
  expect(doc.exportedAt).toMatch(/\.\d{3}Z$/);

  const sync = await asTheSyncApiSendsThem(user);
  expect(sync.pieces).toHaveLength(11);
  expect(doc.pieces).toEqual(sync.pieces);
  expect([...doc.sessions].sort((x: any, y: any) => x.sessionId.localeCompare(y.sessionId))).toEqual(sync.sessions);
  // The session ended after it was sent never reaches the server (the app does not resend it).
  expect(doc.sessions.filter((s: any) => s.endedAt)).toHaveLength(4);
  // Tombstones are not pieces; internal attributes never leave.
  expect(doc.pieces.map((p: any) => p.pieceId)).not.toContain(deletedPiece);
  for (const internal of ["changeKey", "seq", "fieldHistory", "bucketKey", "expiresAt", "changedAt", "deleted", "#sync", "digest"]) {
    expect({ internal, found: text.includes(`"${internal}"`) }).toEqual({ internal, found: false });
  }
  expect(text).not.toContain("bystander");

  // The object: encrypted, tagged with the stack's tags, kept private.
  const key = decodeURIComponent(url.pathname.slice(`/${BUCKET}/`.length));
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  expect(head.ServerSideEncryption).toBe("AES256");
  expect(head.CacheControl).toBe("private, no-store");
  const tags = (await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }))).TagSet;
  expect(Object.fromEntries(tags!.map((t) => [t.Key, t.Value]))).toEqual(TAGS);
});

test("export of a user with nothing stored is an empty document, not an error", async () => {
  const user = `empty-${randomUUID()}`;
  const res = await exportAs(user);
  expect(res.statusCode).toBe(302);
  const doc = (await (await fetch(String(res.headers!.Location))).json()) as any;
  expect(doc).toEqual({ formatVersion: 1, exportedAt: expect.any(String), userId: user, pieces: [], sessions: [] });
});

test("another user's token gets 403 on both routes, the same whether that user exists or not; nothing is read or written", async () => {
  const victim = `victim-${randomUUID()}`;
  await userWithData(victim);
  const before = canonical(await scan());
  const objects = await exportObjects();
  const reads = faults.calls;
  const answers = [];
  for (const target of [victim, `nobody-${randomUUID()}`]) {
    for (const res of [await exportAs(target, "mallory"), await deleteAs(target, "mallory")]) {
      expect(res.statusCode).toBe(403);
      answers.push(res.body);
    }
  }
  // One answer for every case: it tells nothing about whether the user exists.
  expect(new Set(answers).size).toBe(1);
  expect(JSON.parse(answers[0])).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
  expect(faults.calls).toBe(reads);
  expect(canonical(await scan())).toEqual(before);
  expect(await exportObjects()).toBe(objects);
  expect((await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: `google_${victim}` }))).Username).toBe(`google_${victim}`);
});

test("consent-status with a token: 501 not_implemented (the KWS flow is not part of this backend)", async () => {
  const res = await routes.consent(event("GET", "/users/{userId}/consent-status", "kid", "kid"));
  expect(res.statusCode).toBe(501);
  expect(JSON.parse(res.body)).toEqual({ error: { code: "not_implemented", message: expect.any(String) } });
});

test("deletion: 204; no item of the user in either table and no Cognito user; every other user byte for byte", async () => {
  const leaving = `leaving-${randomUUID()}`;
  const staying = `staying-${randomUUID()}`;
  await userWithData(leaving);
  await userWithData(staying);
  const all = await scan();
  expect(all.filter((i) => i.userId === leaving).length).toBeGreaterThan(15);
  const others = canonical(all.filter((i) => i.userId !== leaving));
  const stayingUser = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: `google_${staying}` }));

  const res = await deleteAs(leaving);
  expect(res).toMatchObject({ statusCode: 204, body: "" });
  const after = await scan();
  expect(after.filter((i) => i.userId === leaving)).toEqual([]);
  expect(JSON.stringify(after)).not.toContain(leaving);
  // Beyond the others: the deletion record alone (keyed by a hash, holding only the time).
  const extra = canonical(after).filter((l) => !others.includes(l));
  expect(extra).toHaveLength(1);
  expect(Object.keys(JSON.parse(extra[0])).sort()).toEqual(["deletedAt", "pieceId", "table", "userId"]);
  expect(canonical(after.filter((i) => !String(i.userId).startsWith("#deleted#")))).toEqual(others.filter((l) => !JSON.parse(l).userId.startsWith("#deleted#")));
  await expect(cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: `google_${leaving}` }))).rejects.toMatchObject({ name: "UserNotFoundException" });
  expect(await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: `google_${staying}` }))).toMatchObject({
    Username: stayingUser.Username,
    UserAttributes: stayingUser.UserAttributes,
  });
  const line = JSON.parse(h.logs.filter((l) => l.includes("DELETE /users/{userId}")).pop()!);
  expect(line).toMatchObject({ status: 204, pieces: 12, sessions: 5, cognitoUser: "deleted" });

  // Idempotent: again, 204, nothing changes.
  const snapshot = canonical(await scan());
  expect((await deleteAs(leaving)).statusCode).toBe(204);
  expect(canonical(await scan())).toEqual(snapshot);
});

test("a deletion that fails half-way answers an error the app retries, and the retry completes it (DynamoDB, then Cognito)", async () => {
  const user = `flaky-${randomUUID()}`;
  const { a } = await userWithData(user, 60);
  // DynamoDB fails for good after the first batch of deletes: 503, part of the data gone.
  let writes = 0;
  faults.decide = (name) => (name === "BatchWriteCommand" && ++writes > 1 ? "fail" : undefined);
  const first = await deleteAs(user);
  expect(first.statusCode).toBe(503);
  expect(JSON.parse(first.body).error.code).toBe("write_failed");
  faults.decide = undefined;
  const left = (await scan()).filter((i) => i.userId === user);
  expect(left.length).toBeGreaterThan(0);
  expect(left.length).toBeLessThan(60 + 5);
  // A device still holding everything syncs between the attempts (a cold start, and
  // an edit): nothing it holds is taken back, and what is left is left as it was.
  a.coldStart();
  a.edit([...a.pieces.keys()][5], { notes: "edited while the deletion was cut short" });
  expect((await a.syncNow()).pieces.status).toBe(200);
  const items = (all: Record<string, any>[]) => canonical(all.filter((i) => i.userId === user && i.pieceId !== "#sync"));
  expect(items(await scan())).toEqual(items(left));

  // The data goes, then Cognito fails: 502, no data left, the Cognito user still there.
  cognitoFails = 1;
  const second = await deleteAs(user);
  expect(second.statusCode).toBe(502);
  expect(JSON.parse(second.body).error.code).toBe("upstream_failed");
  expect((await scan()).filter((i) => i.userId === user && i.pieceId !== "#sync")).toEqual([]);
  expect((await cognito.send(new ListUsersCommand({ UserPoolId: userPoolId, Filter: `username = "google_${user}"` }))).Users).toHaveLength(1);

  // The retry completes it.
  expect((await deleteAs(user)).statusCode).toBe(204);
  expect((await scan()).filter((i) => i.userId === user)).toEqual([]);
  await expect(cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: `google_${user}` }))).rejects.toMatchObject({ name: "UserNotFoundException" });
});

test("after a deletion the export is empty: the account starts over with what it creates", async () => {
  const user = `restart-${randomUUID()}`;
  await userWithData(user);
  expect((await deleteAs(user)).statusCode).toBe(204);
  // A device clock after the deletion: what it creates is new (see ofDeletedAccount in pieces.ts).
  const fresh = new Device("fresh", user, h.transport(user), new DeviceClock(Date.now() + 5000));
  const p = fresh.createPiece({ title: "a new start" });
  await fresh.syncNow();
  const doc = (await (await fetch(String((await exportAs(user)).headers!.Location))).json()) as any;
  expect(doc.pieces.map((x: any) => x.pieceId)).toEqual([p.pieceId]);
  expect(doc.sessions).toEqual([]);
});
