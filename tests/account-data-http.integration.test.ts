// Issue 10 over HTTP against the local server (the real handlers behind the same
// authorizer code, API Gateway's path parameters): a user with 10,000 pieces of 1-5
// KB (about 36 MB, six times what a Lambda response can carry) exports completely,
// following the redirect to moto's S3 as the app's URLSession does (the handler
// called directly, on moto's S3: account-data.integration); another user's
// token gets 403, no token 401 (consent-status too: the app's call without a token);
// DELETE removes the user's data and Cognito user. Without moto, the server serves
// the export at a short-lived link of its own.
import { AdminGetUserCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePiece } from "../bench/corpus";
import { countUserData } from "../functions/core/export";
import { setLogSink } from "../functions/core/log";
import { documentClient } from "../functions/core/routes";
import { EXPORT_LINK_SECONDS } from "../lib/exports";
import { issueDevToken } from "../local/dev-auth";
import { LocalServer, startLocalServer } from "../local/server";
import { localEndpoint } from "./helpers/dynamo";

jest.setTimeout(600_000);

const N = 10_000;
const USER = "109876543210987654321";
let stateDir: string;
let server: LocalServer;
let token: string;
const logs: string[] = [];
let restoreLogs: ReturnType<typeof setLogSink>;

beforeAll(async () => {
  restoreLogs = setLogSink((l) => logs.push(l));
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-acct-http-"));
  process.env.HAUMANA_LOCAL_DIR = stateDir;
  server = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: `acct-${process.pid}`, cognito: "auto" });
  token = await issueDevToken({ sub: USER, email: "kumu@example.com" });
});
afterAll(async () => {
  await server?.stop();
  setLogSink(restoreLogs);
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const auth = (t: string) => ({ Authorization: `Bearer ${t}` });

async function push(url: string, t: string, pieces: unknown[]) {
  const res = await fetch(`${url}/pieces`, {
    method: "POST",
    headers: { ...auth(t), "Content-Type": "application/json" },
    body: JSON.stringify({ operation: "sync", protocol: 2, pieces, limit: 1 }),
  });
  const body: any = await res.json();
  expect(res.status).toBe(200);
  return body;
}

test("10,000 pieces of 1-5 KB: a 302 to a presigned S3 link; following it, as the app does, brings the whole document", async () => {
  expect(server.exports).toMatchObject({ kind: "s3", bucket: expect.any(String) });
  // The app's repertoire, pushed as a protocol-2 client pushes it (each request under 6 MB).
  const pieces = Array.from({ length: N }, (_, i) => makePiece(USER, i));
  for (let i = 0; i < N; i += 1000) {
    const body = await push(server.url, token, pieces.slice(i, i + 1000));
    expect(body.refusedPieces).toEqual([]);
    expect(body.uploadedPieces).toHaveLength(Math.min(1000, N - i));
  }

  // What URLSession does: follow the redirect (fetch drops the Authorization header on
  // the way to another origin, as a presigned URL requires).
  const res = await fetch(`${server.url}/users/${USER}/export`, { headers: auth(token) });
  expect(res.status).toBe(200);
  expect(res.redirected).toBe(true);
  // It was redirected to the presigned S3 link (valid EXPORT_LINK_SECONDS), not served by the API.
  const location = new URL(res.url);
  expect(res.url.startsWith(`${(server.exports as { endpoint: string }).endpoint}/`)).toBe(true);
  expect(location.searchParams.get("X-Amz-Expires")).toBe(String(EXPORT_LINK_SECONDS));
  expect(location.searchParams.get("X-Amz-Signature")).toBeTruthy();
  const text = await res.text();
  // Far over the 6 MB a Lambda response can carry.
  expect(Buffer.byteLength(text)).toBeGreaterThan(5 * 6 * 1024 * 1024);
  const doc = JSON.parse(text);
  expect(doc).toMatchObject({ formatVersion: 1, userId: USER, sessions: [] });
  expect(doc.pieces).toHaveLength(N);
  const sent = new Map(pieces.map((p) => [p.pieceId, p]));
  for (const p of doc.pieces) {
    const original = sent.get(p.pieceId)!;
    expect(original).toBeDefined();
    expect({ id: p.pieceId, title: p.title, lyrics: p.lyrics, notes: p.notes, author: p.author }).toEqual({
      id: original.pieceId,
      title: original.title,
      lyrics: original.lyrics,
      notes: original.notes,
      author: original.author,
    });
    expect(p.createdAt).toBe(original.createdAt.replace("Z", ".000Z"));
  }
  expect(new Set(doc.pieces.map((p: any) => p.pieceId)).size).toBe(N);

  // Links are credentials: no log line carries one, or the bearer token.
  expect(logs.filter((l) => l.includes("X-Amz-Signature") || l.includes(token))).toEqual([]);
  const exportLines = logs.filter((l) => l.includes('"route":"GET /users/{userId}/export"') && l.includes('"pieces":10000'));
  // One export, answered with the redirect (its document written to S3, not the response).
  expect(exportLines.map((l) => JSON.parse(l)).map((l) => [l.status, l.responseBytes, l.exportBytes === Buffer.byteLength(text)])).toEqual([[302, 0, true]]);
});

test("another user's token: 403 on export and delete; no token: 401 on all three routes; consent-status with a token: 501", async () => {
  const mallory = await issueDevToken({ sub: "mallory", email: "mallory@example.com" });
  for (const target of [USER, "nobody-at-all"]) {
    const get = await fetch(`${server.url}/users/${target}/export`, { headers: auth(mallory), redirect: "manual" });
    const del = await fetch(`${server.url}/users/${target}`, { method: "DELETE", headers: auth(mallory) });
    expect([get.status, del.status]).toEqual([403, 403]);
    expect(await get.json()).toEqual({ error: { code: "forbidden", message: expect.any(String) } });
  }
  for (const [method, route] of [
    ["GET", `/users/${USER}/export`],
    ["DELETE", `/users/${USER}`],
    ["GET", `/users/${USER}/consent-status`],
  ]) {
    const res = await fetch(`${server.url}${route}`, { method });
    expect({ method, route, status: res.status, body: await res.json() }).toEqual({ method, route, status: 401, body: { message: "Unauthorized" } });
  }
  const consent = await fetch(`${server.url}/users/${USER}/consent-status`, { headers: auth(token) });
  expect(consent.status).toBe(501);
  expect(((await consent.json()) as any).error.code).toBe("not_implemented");
  // Unknown paths under /users are not routes.
  expect((await fetch(`${server.url}/users/${USER}/other`, { headers: auth(token) })).status).toBe(404);
  expect((await fetch(`${server.url}/users/`, { method: "DELETE", headers: auth(token) })).status).toBe(404);
});

test("DELETE /users/{userId}: 204, then the Cognito user is gone and the export is empty", async () => {
  const sub = "deleting-over-http";
  const t = await issueDevToken({ sub, email: "leaving@example.com" });
  // Signing in creates the Cognito user (moto), a push creates data.
  expect((await fetch(`${server.url}/auth/sync`, { method: "POST", body: JSON.stringify({ googleIdToken: t }) })).status).toBe(200);
  await push(server.url, t, [makePiece(sub, 1), makePiece(sub, 2)]);
  const cognito = new CognitoIdentityProviderClient({ endpoint: server.userPool!.endpoint, region: "us-west-2", credentials: { accessKeyId: "t", secretAccessKey: "t" } });
  try {
    expect((await cognito.send(new AdminGetUserCommand({ UserPoolId: server.userPool!.userPoolId, Username: `google_${sub}` }))).Username).toBe(`google_${sub}`);
    const res = await fetch(`${server.url}/users/${sub}`, { method: "DELETE", headers: auth(t) });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expect(cognito.send(new AdminGetUserCommand({ UserPoolId: server.userPool!.userPoolId, Username: `google_${sub}` }))).rejects.toMatchObject({
      name: "UserNotFoundException",
    });
    const emptied = (await (await fetch(`${server.url}/users/${sub}/export`, { headers: auth(t) })).json()) as any;
    expect(emptied.pieces).toEqual([]);
    // The other user's 10,000 pieces are still all there.
    const doc = documentClient({ endpoint: server.dynamoEndpoint, region: "us-west-2", credentials: { accessKeyId: "t", secretAccessKey: "t" }, maxAttempts: 3 });
    const tables = { pieces: server.piecesTable, sessions: server.sessionsTable };
    expect(await countUserData({ doc, tableName: (k) => tables[k], now: Date.now }, USER)).toEqual({ pieces: N, tombstones: 0, sessions: 0, syncState: true });
    doc.destroy();
  } finally {
    cognito.destroy();
  }
});

test("without moto the server serves the export itself, at a random link that expires", async () => {
  const s = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: `acct-local-${process.pid}`, cognito: "off" });
  try {
    expect(s.exports).toEqual({ kind: "local" });
    const t = await issueDevToken({ sub: "local-only" });
    await push(s.url, t, [makePiece("local-only", 7)]);
    const manual = await fetch(`${s.url}/users/local-only/export`, { headers: auth(t), redirect: "manual" });
    expect(manual.status).toBe(302);
    const location = manual.headers.get("location")!;
    expect(location).toMatch(new RegExp(`^${s.url}/local-exports/[A-Za-z0-9_-]{32}$`));
    const got = await fetch(location, { headers: { "Accept-Encoding": "gzip" } });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-disposition")).toMatch(/^attachment; filename="haumana-export-/);
    const doc = (await got.json()) as any;
    expect(doc.pieces).toEqual([expect.objectContaining({ userId: "local-only", title: expect.stringMatching(/^Mele 7 /) })]);
    expect((await fetch(`${s.url}/local-exports/not-a-link`)).status).toBe(404);
    // Past its time the link is gone, like a presigned one.
    const now = Date.now();
    const clock = jest.spyOn(Date, "now").mockReturnValue(now + (EXPORT_LINK_SECONDS + 1) * 1000);
    try {
      expect((await fetch(location)).status).toBe(404);
    } finally {
      clock.mockRestore();
    }
  } finally {
    await s.stop();
  }
});
