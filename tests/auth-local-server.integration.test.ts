// Issue 5's authorizer attack matrix over HTTP against the local server (the
// Lambda module's side is tests/auth-authorizer.unit.test.ts). The server is
// started with a verifier config pointing at a loopback JWKS (Google's issuers, a
// test client ID), so the signature-valid attacks and JWKS outages run through the
// same createTokenVerifier code as production. Every attack gets exactly
// 401 {"message":"Unauthorized"}, writes nothing, and no log line carries the
// token; a JWKS that is down or slow denies within a bound.
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setLogSink } from "../functions/core/log";
import { GOOGLE_ISSUERS, JWKS_TIMEOUT_MS } from "../lib/google";
import { issueDevToken } from "../local/dev-auth";
import { freePort } from "../local/dynamodb-local";
import { LocalServer, startLocalServer } from "../local/server";
import { localClient, localEndpoint } from "./helpers/dynamo";
import {
  googleClaims,
  hs256WithPublicKey,
  JwksMode,
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

jest.setTimeout(60_000);

const SUB = "109876543210987654321";
const lines: string[] = [];
let restoreSink: (l: string) => void;
let stateDir: string;
let jwks: JwksServer;
let stranger: TestKey;
let server: LocalServer;
let doc: DynamoDBDocumentClient;
const prefix = `authm-${process.pid}`;

const googleConfig = (jwksUri: string) => ({ jwksUri, issuers: GOOGLE_ISSUERS, audiences: [TEST_AUDIENCE] });
const start = (jwksUri: string) =>
  startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: prefix, cognito: "off", verifier: googleConfig(jwksUri) });

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-auth-"));
  process.env.HAUMANA_LOCAL_DIR = stateDir;
  restoreSink = setLogSink((l) => lines.push(l));
  jwks = await startJwksServer();
  stranger = await makeKey("not-published");
  server = await start(jwks.url);
  doc = DynamoDBDocumentClient.from(localClient());
});
afterAll(async () => {
  await server?.stop();
  await jwks?.close();
  doc?.destroy();
  setLogSink(restoreSink);
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function post(url: string, route: string, authorization: string | undefined, body: unknown = { operation: "sync", pieces: [] }) {
  const res = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(authorization !== undefined ? { Authorization: authorization } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get("content-type") };
}

/** Items the sync tables hold for a user (the counter item included). */
async function itemsOf(userId: string) {
  let n = 0;
  for (const TableName of [server.piecesTable, server.sessionsTable]) {
    const r = await doc.send(
      new QueryCommand({ TableName, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": userId }, ConsistentRead: true }),
    );
    n += r.Items?.length ?? 0;
  }
  return n;
}

function assertNotLogged(token: string | undefined) {
  if (!token) return;
  const leaked = leakedFragments(lines, token);
  if (leaked.length) throw new Error(`a log line carries the token: ${lines.find((l) => l.includes(leaked[0]))!.slice(0, 200)}`);
}

const denyReasons = (from: number) =>
  lines
    .slice(from)
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === "authorizer" && l.outcome === "deny")
    .map((l) => l.reason);

const now = () => Math.floor(new Date().getTime() / 1000);
// A sub per attack, so "nothing was written" is checked for the identity it claims.
const victim = (i: number) => `attack-${process.pid}-${i}`;

const attacks: Array<[string, (i: number) => Promise<string | undefined>, string]> = [
  ["no header", async () => undefined, "missing_token"],
  ["empty header", async () => "", "missing_token"],
  ["Basic scheme", async () => "Basic dXNlcjpwYXNzd29yZA==", "wrong_scheme"],
  ["Basic scheme carrying a valid JWT", async (i) => `Basic ${await signToken(jwks.key, googleClaims({ sub: victim(i) }))}`, "wrong_scheme"],
  ["garbage", async () => "Bearer not-a-token", "malformed_token"],
  ["garbage in three segments", async () => "Bearer aaa.bbb.ccc", "malformed_token"],
  ["alg none", async (i) => `Bearer ${unsignedToken(googleClaims({ sub: victim(i) }), jwks.key.kid)}`, "alg_not_allowed"],
  ["HS256 signed with the public key", async (i) => `Bearer ${await hs256WithPublicKey(jwks.key, googleClaims({ sub: victim(i) }))}`, "alg_not_allowed"],
  [
    "valid signature, payload changed",
    async (i) => `Bearer ${withPayload(await signToken(jwks.key), googleClaims({ sub: victim(i) }))}`,
    "bad_signature",
  ],
  ["unknown kid", async (i) => `Bearer ${await signToken(stranger, googleClaims({ sub: victim(i) }))}`, "unknown_kid"],
  [
    "published kid, another key's signature",
    async (i) => `Bearer ${await signToken(stranger, googleClaims({ sub: victim(i) }), { kid: jwks.key.kid })}`,
    "bad_signature",
  ],
  ["wrong iss", async (i) => `Bearer ${await signToken(jwks.key, googleClaims({ sub: victim(i), iss: "https://evil.example" }))}`, "bad_iss"],
  ["wrong aud", async (i) => `Bearer ${await signToken(jwks.key, googleClaims({ sub: victim(i), aud: "other-app.apps.googleusercontent.com" }))}`, "bad_aud"],
  ["expired", async (i) => `Bearer ${await signToken(jwks.key, googleClaims({ sub: victim(i), iat: now() - 3700, exp: now() - 100 }))}`, "expired"],
  [
    "iat in the future beyond the skew",
    async (i) => `Bearer ${await signToken(jwks.key, googleClaims({ sub: victim(i), iat: now() + 300, exp: now() + 3900 }))}`,
    "iat_in_future",
  ],
  ["email not verified", async (i) => `Bearer ${await signToken(jwks.key, googleClaims({ sub: victim(i), email_verified: false }))}`, "email_not_verified"],
  // Production config never trusts the local dev sign-in.
  ["a local dev token", async (i) => `Bearer ${await issueDevToken({ sub: victim(i) })}`, "unknown_kid"],
];

describe("local server: attack matrix", () => {
  test.each(attacks.map(([name, make, reason], i) => [name, make, reason, i] as const))(
    "%s: 401 Unauthorized on both routes, nothing written, token not logged",
    async (_name, make, reason, i) => {
      const header = await make(i);
      const from = lines.length;
      for (const route of ["/pieces", "/sessions"]) {
        const body = route === "/pieces" ? { operation: "sync", pieces: [] } : { sessions: [] };
        const r = await post(server.url, route, header, body);
        expect(r.status).toBe(401);
        expect(JSON.parse(r.text)).toEqual({ message: "Unauthorized" });
        expect(r.type).toMatch(/application\/json/);
      }
      expect(denyReasons(from)).toEqual([reason, reason]);
      expect(await itemsOf(victim(i))).toBe(0);
      assertNotLogged(header);
    },
  );

  test("the control: a valid token of the same shape is allowed and syncs", async () => {
    const token = await signToken(jwks.key, googleClaims({ sub: SUB }));
    const r = await post(server.url, "/pieces", `Bearer ${token}`);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ serverPieces: [], uploadedPieces: [], updatedPieces: [], syncedAt: expect.any(String) });
    assertNotLogged(token);
  });

  test("no log line of the suite carries a JWT", () => {
    expect(lines.length).toBeGreaterThan(attacks.length * 2);
    for (const l of lines) expect(l).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});

describe("local server: JWKS down or slow", () => {
  const BOUND_MS = JWKS_TIMEOUT_MS + 2000;
  let outage: JwksServer;
  beforeAll(async () => {
    outage = await startJwksServer();
  });
  afterAll(() => outage.close());

  // A stalled fetch is shared by the requests waiting on it: the first deadline
  // tears it down, and a request whose own deadline had not yet passed is denied
  // by that teardown ("jwks_unavailable") rather than by its timer.
  test.each<[JwksMode, string[]]>([
    ["500", ["jwks_unavailable"]],
    ["reset", ["jwks_unavailable"]],
    ["slow", ["jwks_timeout", "jwks_unavailable"]],
    ["trickle", ["jwks_timeout", "jwks_unavailable"]],
  ])(`JWKS %s: denied within ${BOUND_MS} ms, allowed once it recovers`, async (mode, reasons) => {
    // A fresh server is a cold start: no keys cached yet.
    const s = await start(outage.url);
    try {
      const token = `Bearer ${await signToken(outage.key, googleClaims({ sub: SUB }))}`;
      outage.mode = mode;
      outage.stallMs = 20_000;
      const from = lines.length;
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 3 }, () => post(s.url, "/pieces", token)));
      expect(Date.now() - t0).toBeLessThan(BOUND_MS);
      for (const r of results) expect([r.status, JSON.parse(r.text)]).toEqual([401, { message: "Unauthorized" }]);
      const got = denyReasons(from);
      expect(got).toHaveLength(3);
      for (const r of got) expect(reasons).toContain(r);
      if (reasons.includes("jwks_timeout")) expect(got).toContain("jwks_timeout");
      assertNotLogged(token);
      outage.mode = "ok";
      await new Promise((r) => setTimeout(r, 50));
      expect((await post(s.url, "/pieces", token)).status).toBe(200);
    } finally {
      outage.mode = "ok";
      await s.stop();
    }
  });

  test(`JWKS refusing connections: denied within ${BOUND_MS} ms`, async () => {
    const s = await start(`http://127.0.0.1:${await freePort()}/certs`);
    try {
      const token = `Bearer ${await signToken(outage.key, googleClaims({ sub: SUB }))}`;
      const from = lines.length;
      const t0 = Date.now();
      const r = await post(s.url, "/sessions", token, { sessions: [] });
      expect(Date.now() - t0).toBeLessThan(BOUND_MS);
      expect([r.status, JSON.parse(r.text)]).toEqual([401, { message: "Unauthorized" }]);
      expect(denyReasons(from)).toEqual(["jwks_unavailable"]);
      assertNotLogged(token);
    } finally {
      await s.stop();
    }
  });
});

describe("local server: default config", () => {
  test("trusts its dev key and nothing signed for Google", async () => {
    const s = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: prefix, cognito: "off" });
    try {
      const dev = await issueDevToken({ sub: SUB });
      expect((await post(s.url, "/pieces", `Bearer ${dev}`)).status).toBe(200);
      const google = `Bearer ${await signToken(jwks.key, googleClaims({ sub: SUB }))}`;
      const from = lines.length;
      const r = await post(s.url, "/pieces", google);
      expect([r.status, JSON.parse(r.text)]).toEqual([401, { message: "Unauthorized" }]);
      expect(denyReasons(from)).toHaveLength(1);
      assertNotLogged(google);
      assertNotLogged(dev);
    } finally {
      await s.stop();
    }
  });
});
