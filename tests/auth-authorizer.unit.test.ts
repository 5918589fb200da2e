// Issue 5's authorizer attack matrix, run against the deployed handler module
// (functions/authorizer.ts loaded with its env pointing at a loopback JWKS):
// every attack is denied with a plain "Unauthorized", the log names the reason
// and never carries the token.
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { freePort } from "../local/dynamodb-local";
import {
  googleClaims,
  hs256WithPublicKey,
  JwksServer,
  makeKey,
  leakedFragments,
  signToken,
  startJwksServer,
  TEST_AUDIENCE,
  TestKey,
  unsignedToken,
  withPayload,
} from "./helpers/jwks";

const METHOD_ARN = "arn:aws:execute-api:us-west-2:123456789012:abc123defg/prod/POST/pieces";
const API_PREFIX = "arn:aws:execute-api:us-west-2:123456789012:abc123defg/prod";
type Handler = (e: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

interface Loaded {
  handler: Handler;
  lines: string[];
}

/** A fresh copy of the Lambda module (own verifier, own JWKS cache), as a cold start. */
function loadAuthorizer(jwksUri: string): Loaded {
  const lines: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, {
    AUTH_JWKS_URI: jwksUri,
    AUTH_ISSUERS: "accounts.google.com,https://accounts.google.com",
    AUTH_AUDIENCES: `${TEST_AUDIENCE}, test-web-client.apps.googleusercontent.com`,
  });
  let handler!: Handler;
  try {
    jest.isolateModules(() => {
      handler = require("../functions/authorizer").handler;
      require("../functions/core/log").setLogSink((l: string) => lines.push(l));
    });
  } finally {
    process.env = saved;
  }
  return { handler, lines };
}

const event = (authorizationToken: string | undefined, methodArn = METHOD_ARN) =>
  ({ type: "TOKEN", authorizationToken, methodArn }) as APIGatewayTokenAuthorizerEvent;

async function expectDenied(loaded: Loaded, header: string | undefined, reason?: string, methodArn?: string) {
  const before = loaded.lines.length;
  const err = await loaded.handler(event(header, methodArn)).then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toBe("Unauthorized");
  const newLines = loaded.lines.slice(before);
  expect(newLines).toHaveLength(1);
  const line = JSON.parse(newLines[0]);
  expect(line).toMatchObject({ msg: "authorizer", outcome: "deny" });
  if (reason) expect(line.reason).toBe(reason);
  if (header) assertNotLogged(loaded.lines, header);
}

function assertNotLogged(lines: string[], token: string) {
  expect(leakedFragments(lines, token)).toEqual([]);
}

describe("authorizer handler: attack matrix", () => {
  let jwks: JwksServer;
  let loaded: Loaded;
  let stranger: TestKey;
  let valid: string;

  beforeAll(async () => {
    jwks = await startJwksServer();
    stranger = await makeKey("not-published");
    loaded = loadAuthorizer(jwks.url);
    valid = await signToken(jwks.key);
  });
  afterAll(() => jwks.close());

  const now = () => Math.floor(new Date().getTime() / 1000);
  const cases: Array<[string, () => Promise<string | undefined>, string]> = [
    ["no header", async () => undefined, "missing_token"],
    ["empty header", async () => "", "missing_token"],
    ["Basic scheme", async () => "Basic dXNlcjpwYXNzd29yZA==", "wrong_scheme"],
    ["Basic scheme carrying a valid JWT", async () => `Basic ${valid}`, "wrong_scheme"],
    ["garbage", async () => "Bearer not-a-token", "malformed_token"],
    ["garbage with three segments", async () => "Bearer aaa.bbb.ccc", "malformed_token"],
    ["three words", async () => `Bearer ${valid} extra`, "malformed_header"],
    ["oversized token", async () => `Bearer ${"a".repeat(9000)}.b.c`, "token_too_large"],
    ["alg none", async () => `Bearer ${unsignedToken(googleClaims(), jwks.key.kid)}`, "alg_not_allowed"],
    ["HS256 signed with the public key", async () => `Bearer ${await hs256WithPublicKey(jwks.key)}`, "alg_not_allowed"],
    [
      "RS384 with a published key",
      async () => `Bearer ${await signToken(jwks.key, googleClaims(), { alg: "RS384" })}`,
      "alg_not_allowed",
    ],
    [
      "valid signature, payload changed",
      async () => `Bearer ${withPayload(valid, googleClaims({ sub: "someone-else" }))}`,
      "bad_signature",
    ],
    ["unknown kid", async () => `Bearer ${await signToken(stranger)}`, "unknown_kid"],
    [
      "published kid, signed by another key",
      async () => `Bearer ${await signToken(stranger, googleClaims(), { kid: jwks.key.kid })}`,
      "bad_signature",
    ],
    ["no kid", async () => `Bearer ${await signToken(jwks.key, googleClaims(), { kid: undefined })}`, "missing_kid"],
    ["wrong iss", async () => `Bearer ${await signToken(jwks.key, googleClaims({ iss: "https://evil.example" }))}`, "bad_iss"],
    [
      "local dev issuer",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ iss: "https://haumana.local" }))}`,
      "bad_iss",
    ],
    ["wrong aud", async () => `Bearer ${await signToken(jwks.key, googleClaims({ aud: "other-app" }))}`, "bad_aud"],
    ["no aud", async () => `Bearer ${await signToken(jwks.key, googleClaims({ aud: undefined }))}`, "missing_aud"],
    [
      "expired beyond skew",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ iat: now() - 3700, exp: now() - 100 }))}`,
      "expired",
    ],
    ["no exp", async () => `Bearer ${await signToken(jwks.key, googleClaims({ exp: undefined }))}`, "missing_exp"],
    [
      "iat in the future beyond skew",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ iat: now() + 300, exp: now() + 3900 }))}`,
      "iat_in_future",
    ],
    [
      "iat older than a Google token can be",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ iat: now() - 7200, exp: now() + 3600 }))}`,
      "token_too_old",
    ],
    ["no iat", async () => `Bearer ${await signToken(jwks.key, googleClaims({ iat: undefined }))}`, "missing_iat"],
    [
      "email_verified false",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ email_verified: false }))}`,
      "email_not_verified",
    ],
    [
      'email_verified "false"',
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ email_verified: "false" }))}`,
      "email_not_verified",
    ],
    [
      "email_verified missing",
      async () => `Bearer ${await signToken(jwks.key, googleClaims({ email_verified: undefined }))}`,
      "email_not_verified",
    ],
    ["no email", async () => `Bearer ${await signToken(jwks.key, googleClaims({ email: undefined }))}`, "missing_email"],
    ["no sub", async () => `Bearer ${await signToken(jwks.key, googleClaims({ sub: undefined }))}`, "missing_sub"],
  ];

  test.each(cases)("%s is denied", async (_name, make, reason) => {
    await expectDenied(loaded, await make(), reason);
  });

  test("a valid token with a malformed methodArn is denied", async () => {
    await expectDenied(loaded, `Bearer ${valid}`, "bad_method_arn", "not-an-arn");
  });

  test("a valid token is allowed on this API's authorized routes only, with userId and email", async () => {
    const result = await loaded.handler(event(`Bearer ${valid}`));
    expect(result.principalId).toBe("109876543210987654321");
    expect(result.context).toEqual({ userId: "109876543210987654321", email: "kumu@example.com" });
    // A path parameter is `*` in the policy: API Gateway compares the request's ARN,
    // with the value filled in, against it (whose data it is, is the handler's check).
    expect(result.policyDocument.Statement).toEqual([
      {
        Action: "execute-api:Invoke",
        Effect: "Allow",
        Resource: [
          `${API_PREFIX}/POST/pieces`,
          `${API_PREFIX}/POST/sessions`,
          `${API_PREFIX}/GET/users/*/export`,
          `${API_PREFIX}/DELETE/users/*`,
          `${API_PREFIX}/GET/users/*/consent-status`,
        ],
      },
    ]);
    const sessions = await loaded.handler(event(`bearer ${valid}`, `${API_PREFIX}/POST/sessions`));
    expect(sessions.policyDocument).toEqual(result.policyDocument);
    assertNotLogged(loaded.lines, valid);
  });

  test("the policy covers the authorized routes as called (path parameters filled in) and nothing else", async () => {
    const { policyAllows } = await import("../local/server");
    const result = await loaded.handler(event(`Bearer ${valid}`, `${API_PREFIX}/GET/users/109876543210987654321/export`));
    const resources = result.policyDocument.Statement.flatMap((st: any) => st.Resource) as string[];
    const allows = (arn: string) => policyAllows(resources, `${API_PREFIX}/${arn}`);
    for (const arn of ["POST/pieces", "POST/sessions", "GET/users/109876543210987654321/export", "GET/users/someone-else/export", "DELETE/users/109876543210987654321", "GET/users/1/consent-status"]) {
      expect({ arn, allowed: allows(arn) }).toEqual({ arn, allowed: true });
    }
    for (const arn of ["POST/auth/sync", "GET/pieces", "DELETE/pieces", "POST/users/1/export", "GET/users/1/other", "PUT/users/1"]) {
      expect({ arn, allowed: allows(arn) }).toEqual({ arn, allowed: false });
    }
    // Another API or stage is never covered.
    expect(policyAllows(resources, "arn:aws:execute-api:us-west-2:123456789012:other12345/prod/POST/pieces")).toBe(false);
    expect(policyAllows(resources, API_PREFIX.replace(/prod$/, "dev") + "/POST/pieces")).toBe(false);
  });

  test.each<[string, () => Record<string, unknown>]>([
    ['email_verified "true"', () => googleClaims({ email_verified: "true" })],
    ["iss without https://", () => googleClaims({ iss: "accounts.google.com" })],
    ["the second configured client ID", () => googleClaims({ aud: "test-web-client.apps.googleusercontent.com" })],
    ["iat 30 s ahead (within skew)", () => googleClaims({ iat: now() + 30 })],
    ["exp 30 s ago (within skew)", () => googleClaims({ iat: now() - 3600, exp: now() - 30 })],
  ])("accepted: %s", async (_name, claims) => {
    const result = await loaded.handler(event(`Bearer ${await signToken(jwks.key, claims())}`));
    expect(result.context?.userId).toBe("109876543210987654321");
  });

  test("no log line of the whole suite carries a token", () => {
    expect(loaded.lines.length).toBeGreaterThan(cases.length);
    assertNotLogged(loaded.lines, valid);
    for (const l of loaded.lines) expect(l).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });

  test("the leak check finds a token, or a piece of its signature or payload, in a line", () => {
    const bare = valid.replace(/^Bearer /, "");
    const [, payload, sig] = bare.split(".");
    expect(leakedFragments(['{"msg":"x"}'], valid)).toEqual([]);
    expect(leakedFragments([`{"auth":"${valid}"}`], valid)).toContain(bare);
    expect(leakedFragments([`{"s":"${sig.slice(100, 121)}"}`], valid)).toContain(sig.slice(100, 120));
    expect(leakedFragments([`{"p":"${payload}"}`], valid)).toEqual([payload]);
  });
});

describe("authorizer module configuration", () => {
  test.each(["AUTH_JWKS_URI", "AUTH_ISSUERS", "AUTH_AUDIENCES"])("a missing %s fails the cold start", (name) => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AUTH_JWKS_URI: "https://www.googleapis.com/oauth2/v3/certs",
      AUTH_ISSUERS: "https://accounts.google.com",
      AUTH_AUDIENCES: TEST_AUDIENCE,
    });
    process.env[name] = " ";
    try {
      expect(() => jest.isolateModules(() => require("../functions/authorizer"))).toThrow(`${name} is`);
    } finally {
      process.env = saved;
    }
  });

  test("a JWKS over plain http to a non-loopback host is refused", () => {
    expect(() => loadAuthorizer("http://example.com/certs")).toThrow(/https/);
  });
});

describe("authorizer handler: JWKS caching and refetch", () => {
  let jwks: JwksServer;
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;

  beforeAll(async () => {
    jwks = await startJwksServer();
  });
  afterAll(() => jwks.close());
  beforeEach(() => {
    offsetMs = 0;
    // The clock stands still but for the test's own jumps: on a busy machine the loops
    // below may take longer than the 30 s cooldown in real time.
    const frozen = realNow();
    jest.spyOn(Date, "now").mockImplementation(() => frozen + offsetMs);
  });
  afterEach(() => jest.restoreAllMocks());

  test("200 verifications in one container fetch the JWKS once", async () => {
    const loaded = loadAuthorizer(jwks.url);
    const start = jwks.requests;
    const token = `Bearer ${await signToken(jwks.key)}`;
    for (let i = 0; i < 200; i++) await loaded.handler(event(token));
    expect(jwks.requests - start).toBe(1);
  });

  test("concurrent cold-start verifications share one fetch", async () => {
    const loaded = loadAuthorizer(jwks.url);
    const start = jwks.requests;
    const token = `Bearer ${await signToken(jwks.key)}`;
    await Promise.all(Array.from({ length: 50 }, () => loaded.handler(event(token))));
    expect(jwks.requests - start).toBe(1);
  });

  test("an unknown kid refetches at most once per cooldown; a rotated key is picked up", async () => {
    const loaded = loadAuthorizer(jwks.url);
    const start = jwks.requests;
    await loaded.handler(event(`Bearer ${await signToken(jwks.key)}`));
    expect(jwks.requests - start).toBe(1);

    const stranger = await makeKey("rotated-in-later");
    const unknown = async () => `Bearer ${await signToken(stranger)}`;
    // Within the cooldown after the first fetch: no refetch, however many tries.
    for (let i = 0; i < 20; i++) await expectDenied(loaded, await unknown(), "unknown_kid");
    expect(jwks.requests - start).toBe(1);

    // After the cooldown: exactly one refetch for a burst of unknown kids.
    offsetMs = 31_000;
    for (let i = 0; i < 20; i++) await expectDenied(loaded, await unknown(), "unknown_kid");
    expect(jwks.requests - start).toBe(2);

    // Google publishes the new key; once the cooldown has passed it is fetched and trusted.
    jwks.published = [jwks.key, stranger];
    offsetMs = 62_000;
    const result = await loaded.handler(event(await unknown()));
    expect(result.principalId).toBe("109876543210987654321");
    expect(jwks.requests - start).toBe(3);
  });
});

describe("authorizer handler: JWKS down or slow", () => {
  let jwks: JwksServer;
  beforeAll(async () => {
    jwks = await startJwksServer();
  });
  afterAll(() => jwks.close());
  afterEach(() => {
    jwks.mode = "ok";
  });

  test.each<["500" | "reset", string]>([
    ["500", "jwks_unavailable"],
    ["reset", "jwks_unavailable"],
  ])("JWKS answering %s: denied, and allowed again once it recovers", async (mode, reason) => {
    const loaded = loadAuthorizer(jwks.url);
    const token = `Bearer ${await signToken(jwks.key)}`;
    jwks.mode = mode;
    await expectDenied(loaded, token, reason);
    jwks.mode = "ok";
    await expect(loaded.handler(event(token))).resolves.toMatchObject({ principalId: "109876543210987654321" });
  });

  test("JWKS refusing connections: denied", async () => {
    const port = await freePort();
    const loaded = loadAuthorizer(`http://127.0.0.1:${port}/certs`);
    await expectDenied(loaded, `Bearer ${await signToken(jwks.key)}`, "jwks_unavailable");
  });

  test.each<["slow" | "trickle"]>([["slow"], ["trickle"]])(
    "JWKS %s: denied within the bound (< 5 s), and allowed again once it recovers",
    async (mode) => {
      const loaded = loadAuthorizer(jwks.url);
      const token = `Bearer ${await signToken(jwks.key)}`;
      jwks.mode = mode;
      jwks.stallMs = 20_000;
      const t0 = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => loaded.handler(event(token))));
      const elapsed = Date.now() - t0;
      expect(results.every((r) => r.status === "rejected" && (r.reason as Error).message === "Unauthorized")).toBe(true);
      expect(elapsed).toBeLessThan(5000);
      // The lookup that hit the deadline logs a timeout; lookups that were waiting on
      // the same torn-down fetch may log it as unavailable, depending on timing.
      const reasons = loaded.lines.map((l) => JSON.parse(l).reason);
      expect(reasons).toContain("jwks_timeout");
      for (const r of reasons) expect(["jwks_timeout", "jwks_unavailable"]).toContain(r);
      assertNotLogged(loaded.lines, token);

      // The stalled fetch was torn down (a request in the same few ms would still
      // see its abort, denied at once), so the next request fetches afresh.
      jwks.mode = "ok";
      await new Promise((r) => setTimeout(r, 50));
      const t1 = Date.now();
      await expect(loaded.handler(event(token))).resolves.toMatchObject({ principalId: "109876543210987654321" });
      expect(Date.now() - t1).toBeLessThan(1000);
    },
    15_000,
  );
});
