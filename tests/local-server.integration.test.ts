// The local API over real HTTP: the authorizer on every request, dev sign-in, the
// sync routes on DynamoDB Local, data kept across restarts, and `npm start` as a
// process printing a curl example that works.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as zlib from "node:zlib";
import * as os from "node:os";
import * as path from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { issueDevToken } from "../local/dev-auth";
import { freePort } from "../local/dynamodb-local";
import { LocalServer, startLocalServer } from "../local/server";
import { Device, Transport } from "./helpers/device";
import { localEndpoint } from "./helpers/dynamo";

jest.setTimeout(120_000);
const root = path.resolve(__dirname, "..");
let stateDir: string;
let server: LocalServer;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-local-"));
  process.env.HAUMANA_LOCAL_DIR = stateDir;
  server = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: `t-${process.pid}`, cognito: "auto" });
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function post(url: string, route: string, body: unknown, token?: string) {
  const res = await fetch(`${url}${route}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const httpTransport = (url: string, token: string): Transport => (route, body) => post(url, route, body, token);

test("every sync request goes through the authorizer", async () => {
  expect(await post(server.url, "/pieces", { operation: "sync", pieces: [] })).toEqual({ status: 401, body: { message: "Unauthorized" } });
  expect((await post(server.url, "/sessions", { sessions: [] }, "garbage")).status).toBe(401);
  // A well-formed token from a key the server does not trust.
  const { privateKey } = await generateKeyPair("RS256");
  const forged = await new SignJWT({ email: "x@example.com", email_verified: true })
    .setProtectedHeader({ alg: "RS256", kid: "other" })
    .setIssuer("https://haumana.local")
    .setAudience("haumana-local")
    .setSubject("123")
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(privateKey);
  expect((await post(server.url, "/pieces", { operation: "sync", pieces: [] }, forged)).status).toBe(401);
});

test("two devices of one user sync through the local server; another user sees nothing", async () => {
  const token = await issueDevToken({ sub: "local-user-1", email: "one@example.com" });
  const a = new Device("a", "local-user-1", httpTransport(server.url, token));
  const b = new Device("b", "local-user-1", httpTransport(server.url, token));
  const p = a.createPiece({ title: "Ke Aloha" });
  a.recordSession(p.pieceId);
  expect((await a.syncPieces()).status).toBe(200);
  expect((await a.syncSessions()).status).toBe(200);
  await b.syncPieces();
  await b.syncSessions();
  expect(b.content(p.pieceId)).toEqual(a.content(p.pieceId));
  expect(b.sessions.size).toBe(1);

  const other = await issueDevToken({ sub: "local-user-2", email: "two@example.com" });
  const c = new Device("c", "local-user-2", httpTransport(server.url, other));
  await c.syncPieces();
  expect(c.pieces.size).toBe(0);
});

test("bad input gets a 4xx with an error code, oversized bodies 413, unknown routes 404", async () => {
  const token = await issueDevToken({ sub: "local-user-3" });
  const bad = await post(server.url, "/pieces", "{not json", token);
  expect(bad).toEqual({ status: 400, body: { error: { code: "invalid_json", message: expect.any(String) } } });
  const big = await post(server.url, "/pieces", JSON.stringify({ operation: "sync", pieces: [], pad: "x".repeat(7 * 1024 * 1024) }), token);
  expect(big.status).toBe(413);
  expect(big.body.error.code).toBe("payload_too_large");
  expect((await post(server.url, "/nope", {}, token)).status).toBe(404);
});

test("POST /auth/sync creates the user from a dev token", async () => {
  const token = await issueDevToken({ sub: "local-user-4", email: "four@example.com", name: "Four" });
  const r = await post(server.url, "/auth/sync", { googleIdToken: token });
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    success: true,
    user: expect.objectContaining({ id: "local-user-4", email: "four@example.com", username: "google_local-user-4" }),
  });
});

test("data survives a restart when kept in a folder", async () => {
  const dataDir = path.join(stateDir, "ddb-restart");
  const token = await issueDevToken({ sub: "restart-user" });
  const s1 = await startLocalServer({ dataDir, cognito: "off" });
  const a = new Device("a", "restart-user", httpTransport(s1.url, token));
  const p = a.createPiece({ title: "kept on disk" });
  await a.syncPieces();
  await s1.stop();
  const s2 = await startLocalServer({ dataDir, cognito: "off" });
  try {
    const b = new Device("b", "restart-user", httpTransport(s2.url, token));
    await b.syncPieces();
    expect(b.content(p.pieceId)?.title).toBe("kept on disk");
  } finally {
    await s2.stop();
  }
});

test("npm start's server prints its URL and a curl example that works", async () => {
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), HAUMANA_LOCAL_DIR: path.join(stateDir, "npm-start") };
  const child = spawn(path.join(root, "node_modules/.bin/tsx"), ["local/server.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  try {
    const deadline = Date.now() + 60_000;
    while (!/Ctrl-C/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
    expect(out).toContain(`Haumana API running at http://127.0.0.1:${port}`);
    const tokenCmd = /TOKEN=\$\(npx haumana-ops dev token --sub (\S+) --email (\S+)\)/.exec(out);
    expect(tokenCmd).not.toBeNull();
    const token = execFileSync("node", [path.join(root, "bin/haumana-ops.js"), "dev", "token", "--sub", tokenCmd![1], "--email", tokenCmd![2]], { env, encoding: "utf8" }).trim();
    const curl = /curl -s -X POST (\S+) .* -d '(.*)'\n/.exec(out)!;
    const r = await post(curl[1].replace(/\/pieces$/, ""), "/pieces", JSON.parse(curl[2]), token);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ serverPieces: [], uploadedPieces: [], updatedPieces: [], syncedAt: expect.any(String) });
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
});

// Regression (issue 9): without moto, /auth/sync answered 501, and the app pointed at
// `npm start` signed the user out at every launch.
test("POST /auth/sync answers 200 with no user registry running", async () => {
  const s = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: `noreg-${process.pid}`, cognito: "off" });
  try {
    const token = await issueDevToken({ sub: "local-user-5", email: "five@example.com" });
    const r = await post(s.url, "/auth/sync", { googleIdToken: token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ success: true, user: expect.objectContaining({ id: "local-user-5", email: "five@example.com" }) });
    expect((await post(s.url, "/auth/sync", { googleIdToken: "not-a-token" })).status).toBe(401);
  } finally {
    await s.stop();
  }
});

// Regression (issue 9): the server listened before its request handler was attached,
// so a request arriving during start-up (here: while moto starts) was never answered.
test("a request that arrives while the server is still starting is answered", async () => {
  const port = await freePort();
  let startedAt = 0;
  const starting = startLocalServer({ port, dynamoEndpoint: localEndpoint(), tablePrefix: `early-${process.pid}`, cognito: "auto" }).then((s) => {
    startedAt = Date.now();
    return s;
  });
  let answer: { status: number; at: number; sentBeforeReady: boolean } | undefined;
  for (let i = 0; i < 3000 && !answer; i++) {
    const sentBeforeReady = startedAt === 0;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/pieces`, { method: "POST", body: "{}", signal: AbortSignal.timeout(90_000) });
      answer = { status: res.status, at: Date.now(), sentBeforeReady };
      await res.arrayBuffer();
    } catch (e: any) {
      if (e?.name === "TimeoutError") throw new Error("a request sent during start-up was never answered");
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const s = await starting;
  try {
    expect(answer).toBeDefined();
    expect(answer!.sentBeforeReady).toBe(true);
    expect(answer!.status).toBe(401);
  } finally {
    await s.stop();
  }
});

// Issue 13: every launch answers over a phone network; the answer is gzip-compressed
// when the client accepts it (as URLSession does), as API Gateway does at 1 KB and up.
test("answers of 1 KB and more are gzip-compressed for a client that accepts gzip, plain otherwise", async () => {
  const token = await issueDevToken({ sub: "local-user-gzip" });
  const a = new Device("a", "local-user-gzip", httpTransport(server.url, token));
  for (let i = 0; i < 20; i++) a.createPiece({ title: `Mele ${i}`, lyrics: "Haʻaheo ka ua i nā pali ".repeat(20) });
  expect((await a.syncPieces()).status).toBe(200);
  const raw = (acceptEncoding?: string) =>
    new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const body = JSON.stringify({ operation: "sync", pieces: [] });
      const req = http.request(`${server.url}/pieces`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(acceptEncoding ? { "Accept-Encoding": acceptEncoding } : {}) },
      });
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end(body);
    });
  const gz = await raw("gzip, deflate, br");
  expect(gz.headers["content-encoding"]).toBe("gzip");
  const unzipped = zlib.gunzipSync(gz.body);
  const plain = await raw();
  expect(plain.headers["content-encoding"]).toBeUndefined();
  expect(JSON.parse(unzipped.toString("utf8")).serverPieces).toHaveLength(20);
  expect(JSON.parse(plain.body.toString("utf8")).serverPieces).toHaveLength(20);
  expect(gz.body.length).toBeLessThan(plain.body.length / 3);
  // A small answer is not worth compressing.
  const small = await new Promise<http.IncomingHttpHeaders>((resolve) => {
    const req = http.request(`${server.url}/pieces`, { method: "POST", headers: { "Accept-Encoding": "gzip" } }, (res) => {
      res.resume();
      resolve(res.headers);
    });
    req.end("{}");
  });
  expect(small["content-encoding"]).toBeUndefined();
});
