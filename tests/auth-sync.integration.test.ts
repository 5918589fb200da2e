// POST /auth/sync against a real moto_server (Cognito IDP) and a loopback JWKS:
// the Lambda module itself is loaded with its env (USER_POOL_ID, AUTH_*, and the
// SDK's AWS_ENDPOINT_URL pointing at moto).
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  CreateUserPoolCommand,
  ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createAuthSyncHandler } from "../functions/core/users";
import { createTokenVerifier } from "../functions/core/verify";
import { setLogSink } from "../functions/core/log";
import {
  googleClaims,
  JwksServer,
  leakedFragments,
  signToken,
  startJwksServer,
  TEST_AUDIENCE,
  TEST_ISSUER,
} from "./helpers/jwks";
import { MotoServer, startMoto } from "./helpers/moto";

type Handler = (e: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

let moto: MotoServer;
let jwks: JwksServer;
let cognito: CognitoIdentityProviderClient;
let userPoolId: string;
let handler: Handler;
const lines: string[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  [moto, jwks] = await Promise.all([startMoto(), startJwksServer()]);
  cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  const pool = await cognito.send(
    new CreateUserPoolCommand({ PoolName: `haumana-test-${Date.now()}`, UsernameAttributes: undefined }),
  );
  userPoolId = pool.UserPool!.Id!;
  // Kept for the whole suite: the SDK reads credentials and endpoint lazily.
  Object.assign(process.env, {
    USER_POOL_ID: userPoolId,
    AUTH_JWKS_URI: jwks.url,
    AUTH_ISSUERS: "accounts.google.com,https://accounts.google.com",
    AUTH_AUDIENCES: TEST_AUDIENCE,
    AWS_REGION: "us-west-2",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_MAX_ATTEMPTS: "1",
  });
  jest.isolateModules(() => {
    handler = require("../functions/auth-sync").handler;
    require("../functions/core/log").setLogSink((l: string) => lines.push(l));
  });
}, 60_000);

afterAll(async () => {
  process.env = savedEnv;
  cognito?.destroy();
  await Promise.all([moto?.stop(), jwks?.close()]);
});

const post = (body: string | undefined, isBase64Encoded = false) =>
  handler({ body, isBase64Encoded, httpMethod: "POST", path: "/auth/sync", headers: {} } as unknown as APIGatewayProxyEvent);

const sync = async (token: string) => post(JSON.stringify({ googleIdToken: token }));

async function attributes(username: string): Promise<Record<string, string>> {
  const out = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
  return Object.fromEntries((out.UserAttributes ?? []).map((a) => [a.Name!, a.Value!]));
}

async function usernames(): Promise<string[]> {
  const out = await cognito.send(new ListUsersCommand({ UserPoolId: userPoolId }));
  return (out.Users ?? []).map((u) => u.Username!).sort();
}

const SUB = "109876543210987654321";
const tokens: string[] = [];
async function token(claims: Record<string, unknown> = {}) {
  const t = await signToken(jwks.key, googleClaims(claims));
  tokens.push(t);
  return t;
}

test("first sign-in creates google_<sub> with email, email_verified, name and picture", async () => {
  const res = await sync(await token());
  expect(res.statusCode).toBe(200);
  expect(res.headers?.["content-type"]).toBe("application/json");
  expect(JSON.parse(res.body)).toEqual({
    success: true,
    user: {
      id: SUB,
      email: "kumu@example.com",
      name: "Kumu Hula",
      picture: "https://lh3.googleusercontent.com/a/test",
      username: `google_${SUB}`,
    },
  });
  expect(await attributes(`google_${SUB}`)).toMatchObject({
    email: "kumu@example.com",
    email_verified: "true",
    name: "Kumu Hula",
    picture: "https://lh3.googleusercontent.com/a/test",
  });
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ msg: "auth-sync", outcome: "created", status: 200 });
});

test("a later sign-in updates name and picture and does not duplicate the user", async () => {
  const res = await sync(await token({ name: "Kumu Hula II", picture: "https://lh3.googleusercontent.com/a/new" }));
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body).user).toMatchObject({ name: "Kumu Hula II", picture: "https://lh3.googleusercontent.com/a/new" });
  expect(await attributes(`google_${SUB}`)).toMatchObject({
    email: "kumu@example.com",
    name: "Kumu Hula II",
    picture: "https://lh3.googleusercontent.com/a/new",
  });
  expect(await usernames()).toEqual([`google_${SUB}`]);
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ outcome: "updated" });

  const again = await sync(await token({ name: "Kumu Hula II", picture: "https://lh3.googleusercontent.com/a/new" }));
  expect(again.statusCode).toBe(200);
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ outcome: "unchanged" });
});

test("a token without name or picture keeps the stored ones", async () => {
  const res = await sync(await token({ name: undefined, picture: undefined }));
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body).user).toMatchObject({ name: "Kumu Hula II", picture: "https://lh3.googleusercontent.com/a/new" });
  expect(await attributes(`google_${SUB}`)).toMatchObject({ name: "Kumu Hula II" });
});

test("another Google account gets its own user", async () => {
  const res = await sync(await token({ sub: "200000000000000000002", email: "haumana@example.com", name: "Haumana", picture: undefined }));
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body).user).toEqual({
    id: "200000000000000000002",
    email: "haumana@example.com",
    name: "Haumana",
    picture: null,
    username: "google_200000000000000000002",
  });
  expect(await usernames()).toEqual([`google_${SUB}`, "google_200000000000000000002"]);
  expect(await attributes(`google_${SUB}`)).toMatchObject({ email: "kumu@example.com", name: "Kumu Hula II" });
});

test.each<[string, () => Promise<string>]>([
  ["wrong audience", () => token({ sub: "300000000000000000003", aud: "another-app" })],
  ["expired", () => token({ sub: "300000000000000000003", iat: 1_000_000, exp: 1_003_600 })],
  ["unverified email", () => token({ sub: "300000000000000000003", email_verified: false })],
  ["garbage", async () => "not-a-token"],
  ["payload changed", async () => {
    const t = await token();
    const [h, , s] = t.split(".");
    return `${h}.${Buffer.from(JSON.stringify(googleClaims({ sub: "300000000000000000003" }))).toString("base64url")}.${s}`;
  }],
])("invalid token (%s) gets 401 and creates nobody", async (_name, make) => {
  const res = await sync(await make());
  expect(res.statusCode).toBe(401);
  expect(JSON.parse(res.body)).toEqual({ error: { code: "unauthorized", message: "Unauthorized" } });
  expect(await usernames()).not.toContain("google_300000000000000000003");
});

test.each<[string, string | undefined, number, string]>([
  ["no body", undefined, 400, "invalid_json"],
  ["not JSON", "{googleIdToken:", 400, "invalid_json"],
  ["empty object", "{}", 400, "invalid_request"],
  ["token not a string", JSON.stringify({ googleIdToken: 123 }), 400, "invalid_request"],
  ["empty token", JSON.stringify({ googleIdToken: "" }), 400, "invalid_request"],
  ["array", "[]", 400, "invalid_request"],
  ["over 16 KB", JSON.stringify({ googleIdToken: "a".repeat(17 * 1024) }), 413, "payload_too_large"],
])("bad body (%s) gets a 4xx with a code", async (_name, body, status, code) => {
  const res = await post(body);
  expect(res.statusCode).toBe(status);
  const parsed = JSON.parse(res.body);
  expect(parsed.error.code).toBe(code);
  expect(typeof parsed.error.message).toBe("string");
  if (code === "invalid_request") {
    expect(Array.isArray(parsed.error.fields)).toBe(true);
    if (body === "{}") expect(parsed.error.fields[0].path).toBe("googleIdToken");
  }
  expect(res.body).not.toMatch(/at .*\.ts|Error:/);
});

test("a base64-encoded body is accepted", async () => {
  const body = Buffer.from(JSON.stringify({ googleIdToken: await token() })).toString("base64");
  const res = await post(body, true);
  expect(res.statusCode).toBe(200);
});

test("simultaneous first sign-ins of one account create one user", async () => {
  const claims = { sub: "400000000000000000004", email: "twice@example.com", name: "Twice" };
  const results = await Promise.all(Array.from({ length: 5 }, async () => sync(await token(claims))));
  expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
  expect((await usernames()).filter((u) => u === "google_400000000000000000004")).toHaveLength(1);
});

test("a Google account whose email changed gets it updated in the pool", async () => {
  const res = await sync(await token({ email: "kumu.new@example.com", name: "Kumu Hula II", picture: "https://lh3.googleusercontent.com/a/new" }));
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body).user.email).toBe("kumu.new@example.com");
  expect(await attributes(`google_${SUB}`)).toMatchObject({ email: "kumu.new@example.com", email_verified: "true" });
  expect(JSON.parse(lines[lines.length - 1])).toMatchObject({ outcome: "updated" });
});

// Regression (issue 9): a Cognito failure answered 502, and the app signs the user out
// on any answer but 200, at every cold start while Cognito is slow.
test("a Cognito failure still answers 200 with the user from the token; a later sign-in registers them", async () => {
  const captured: string[] = [];
  const prev = setLogSink((l) => captured.push(l));
  const verifier = createTokenVerifier({ jwksUri: jwks.url, issuers: [TEST_ISSUER], audiences: [TEST_AUDIENCE] });
  const claims = { sub: "500000000000000000005", email: "slow@example.com", name: "Slow Registry" };
  try {
    const broken = createAuthSyncHandler({ verifier, registry: { cognito, userPoolId: "us-west-2_doesnotexist" } });
    const t = await token(claims);
    const res = await broken({ body: JSON.stringify({ googleIdToken: t }) } as APIGatewayProxyEvent);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      success: true,
      user: { id: claims.sub, email: claims.email, name: claims.name, picture: "https://lh3.googleusercontent.com/a/test", username: `google_${claims.sub}` },
    });
    expect(captured).toHaveLength(1);
    expect(JSON.parse(captured[0])).toMatchObject({ level: "warn", outcome: "registry-failed", status: 200 });
    expect(JSON.parse(captured[0]).cause).toMatch(/^[A-Za-z]+$/);
    expect(leakedFragments([captured[0]], t)).toEqual([]);
    expect(await usernames()).not.toContain(`google_${claims.sub}`);
    // A bad token is still refused when the registry is down.
    const bad = await broken({ body: JSON.stringify({ googleIdToken: "not-a-token" }) } as APIGatewayProxyEvent);
    expect(bad.statusCode).toBe(401);
  } finally {
    setLogSink(prev);
  }
  // Cognito is back: the next sign-in (the real handler) creates the user.
  const again = await sync(await token(claims));
  expect(again.statusCode).toBe(200);
  expect(await usernames()).toContain(`google_${claims.sub}`);
});

test("with no registry at all (the local server without moto) a valid token still gets 200", async () => {
  const captured: string[] = [];
  const prev = setLogSink((l) => captured.push(l));
  try {
    const none = createAuthSyncHandler({
      verifier: createTokenVerifier({ jwksUri: jwks.url, issuers: [TEST_ISSUER], audiences: [TEST_AUDIENCE] }),
    });
    const res = await none({ body: JSON.stringify({ googleIdToken: await token({ sub: "600000000000000000006" }) }) } as APIGatewayProxyEvent);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ success: true, user: { id: "600000000000000000006", username: "google_600000000000000000006" } });
    expect(JSON.parse(captured[0])).toMatchObject({ outcome: "no-registry", status: 200 });
    const bad = await none({ body: JSON.stringify({ googleIdToken: "x.y.z" }) } as APIGatewayProxyEvent);
    expect(bad.statusCode).toBe(401);
  } finally {
    setLogSink(prev);
  }
});

test("one log line per request, none carrying a token", () => {
  // 5 sign-ins, 5 invalid tokens, 7 bad bodies, 1 base64, 5 simultaneous, 1 email change,
  // 1 sign-in once Cognito is back (the broken and registry-less handlers log elsewhere).
  expect(lines.length).toBe(5 + 5 + 7 + 1 + 5 + 1 + 1);
  for (const l of lines) {
    const parsed = JSON.parse(l);
    expect(parsed.msg).toBe("auth-sync");
    expect(typeof parsed.durationMs).toBe("number");
    for (const t of tokens) expect(leakedFragments([l], t)).toEqual([]);
    expect(l).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  }
});
