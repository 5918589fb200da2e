// Hostile input, through the real route handlers on DynamoDB Local (and, for what
// only a real HTTP server sees, the local server). A request wrong as a whole
// (malformed JSON, wrong shapes, oversize bodies, too many entries, extension fields
// without protocol 2, bad cursors) gets a 4xx with a clear error code and no internal
// detail, the tables are byte-for-byte the same afterwards, and the same user's next
// valid request succeeds. A request with one bad piece or session (wrong types,
// missing fields, ids that are not UUIDs, duplicates, invalid Unicode, too large for
// an item) syncs, and that entry alone is refused. Another user's ids never reach the
// owner's data.
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MAX_ISSUED_VERSION, MAX_PIECE_ITEM_BYTES, MAX_PIECES_PER_REQUEST, MAX_SESSIONS_PER_REQUEST, VERSION_STEP } from "../lib/limits";
import { issueDevToken } from "../local/dev-auth";
import { LocalServer, startLocalServer } from "../local/server";
import { Device, DeviceClock } from "./helpers/device";
import { canonicalItems, localEndpoint, scanTable } from "./helpers/dynamo";
import { createHarness, Harness } from "./helpers/sync-harness";

jest.setTimeout(120_000);

let h: Harness;
beforeAll(async () => (h = await createHarness("hostile")));
afterAll(async () => h.done());

/** Every item of both tables, in key order: the "was anything written" witness. */
async function snapshot(tables: { piecesTable: string; sessionsTable: string }) {
  const out: string[] = [];
  for (const table of [tables.piecesTable, tables.sessionsTable]) out.push(...canonicalItems(await scanTable(h.tables.doc, table)).map((i) => `${table} ${i}`));
  return out.sort();
}

const T = "2025-06-18T12:00:00Z";
const piece = (over: Record<string, unknown> = {}) => ({
  pieceId: randomUUID().toUpperCase(),
  userId: "whatever-the-device-thinks",
  title: "Aloha ʻOe",
  category: "mele",
  lyrics: "Haʻaheo ka ua i nā pali",
  includeInPractice: true,
  isFavorite: false,
  createdAt: T,
  modifiedAt: T,
  version: 1,
  locallyModified: true,
  ...over,
});
const session = (over: Record<string, unknown> = {}) => ({
  sessionId: randomUUID().toUpperCase(),
  pieceId: randomUUID().toUpperCase(),
  startedAt: T,
  createdAt: T,
  ...over,
});
const sync = (pieces: unknown[], extra: Record<string, unknown> = {}) => ({ operation: "sync", pieces, ...extra });
const without = (o: Record<string, unknown>, k: string) => {
  const c = { ...o };
  delete c[k];
  return c;
};
const KB = 1024;
const validCursor = Buffer.from("2025-06-18T12:00:00.000Z|000000000001").toString("base64url");
/** A cursor in this server's form for `user`, pointing at `at`: well formed, but never issued. */
const forgedCursor = (at: string, user = `hostile-${process.pid}`) =>
  Buffer.from(`${at}|000000000001|${createHash("sha256").update(user).digest("base64url").slice(0, 12)}`).toString("base64url");
/** The smallest piece the schema takes, for counting limits. */
const tiny = () => ({ pieceId: randomUUID(), title: "t", category: "oli", lyrics: "l", includeInPractice: true, isFavorite: false, createdAt: T, modifiedAt: T, version: 1, locallyModified: false });

type Case = [name: string, route: "/pieces" | "/sessions", body: () => unknown, status: number, code: string, field?: string];

// Wrong as a whole: a 400 (413) and nothing written. Each carries at least one valid
// piece or session beside the bad part where it can, so "nothing written" also means
// "not even the valid part".
const cases: Case[] = [
  ["malformed JSON", "/pieces", () => '{"operation": "sync", "pieces": [', 400, "invalid_json"],
  ["empty body", "/pieces", () => "", 400, "invalid_json"],
  ["JSON that is not an object", "/pieces", () => "[1,2,3]", 400, "invalid_request"],
  ["JSON null", "/sessions", () => "null", 400, "invalid_request"],
  ["deeply nested JSON", "/pieces", () => "[".repeat(50_000) + "]".repeat(50_000), 400, "invalid_request"],
  ["trailing garbage after the JSON", "/pieces", () => JSON.stringify(sync([piece()])) + "}", 400, "invalid_json"],
  ["pieces is a string", "/pieces", () => sync("all" as any), 400, "invalid_request", "pieces"],
  ["operation is a number", "/pieces", () => ({ operation: 1, pieces: [piece()] }), 400, "invalid_request", "operation"],
  ["lastSyncedAt not a date", "/pieces", () => sync([piece()], { lastSyncedAt: "0 OR 1=1" }), 400, "invalid_request", "lastSyncedAt"],
  ["no operation", "/pieces", () => ({ pieces: [piece()] }), 400, "invalid_request", "operation"],
  ["no pieces", "/pieces", () => ({ operation: "sync" }), 400, "invalid_request", "pieces"],
  ["body over 6 MB", "/pieces", () => JSON.stringify(sync([piece()], { pad: "x".repeat(6 * KB * KB) })), 413, "payload_too_large"],
  // More entries than 6 MB of the app's pieces can hold: the limits are there for hostile clients.
  ["20,001 pieces", "/pieces", () => sync(Array.from({ length: MAX_PIECES_PER_REQUEST + 1 }, () => tiny())), 400, "too_many_items", "pieces"],
  ["20,001 sessions", "/sessions", () => ({ sessions: Array.from({ length: MAX_SESSIONS_PER_REQUEST + 1 }, () => session()) }), 400, "too_many_items", "sessions"],
  ["sessions missing", "/sessions", () => ({}), 400, "invalid_request", "sessions"],
  ["sessions is an object", "/sessions", () => ({ sessions: { a: 1 } }), 400, "invalid_request", "sessions"],
  ["unknown operation", "/pieces", () => ({ operation: "delete", pieces: [piece()] }), 400, "invalid_request", "operation"],
  ["operation with a trailing space", "/pieces", () => ({ operation: "sync ", pieces: [piece()] }), 400, "invalid_request", "operation"],
  ["cursor without protocol 2", "/pieces", () => sync([piece()], { cursor: validCursor }), 400, "invalid_request", "cursor"],
  ["limit without protocol 2", "/pieces", () => sync([piece()], { limit: 10 }), 400, "invalid_request", "limit"],
  ["deletedPieces without protocol 2", "/pieces", () => sync([piece()], { deletedPieces: [{ pieceId: randomUUID(), version: 1 }] }), 400, "invalid_request", "deletedPieces"],
  ["a piece both sent and deleted", "/pieces", () => {
    const p = piece();
    return sync([p], { protocol: 2, deletedPieces: [{ pieceId: p.pieceId.toLowerCase(), version: 1 }] });
  }, 400, "invalid_request", "deletedPieces.0.pieceId"],
  ["sessions cursor without protocol 2", "/sessions", () => ({ sessions: [session()], cursor: validCursor }), 400, "invalid_request", "cursor"],
  ["protocol 3", "/pieces", () => sync([piece()], { protocol: 3 }), 400, "invalid_request", "protocol"],
  ['protocol "2" as a string', "/pieces", () => sync([piece()], { protocol: "2" }), 400, "invalid_request", "protocol"],
  ["limit 0", "/pieces", () => sync([piece()], { protocol: 2, limit: 0 }), 400, "invalid_request", "limit"],
  // Regression: any top-level value too big was reported as too_many_items.
  ["limit a million", "/sessions", () => ({ sessions: [session()], protocol: 2, limit: 1_000_000 }), 400, "invalid_request", "limit"],
  ["cursor with characters no cursor has", "/pieces", () => sync([piece()], { protocol: 2, cursor: "';--" }), 400, "invalid_request", "cursor"],
  ["cursor too long", "/pieces", () => sync([piece()], { protocol: 2, cursor: "A".repeat(201) }), 400, "invalid_request", "cursor"],
  // Well-formed base64url, but not a cursor this server issued. Regression: the valid
  // piece (or session) beside it used to be committed before the cursor was decoded.
  ["cursor this server never issued", "/pieces", () => sync([piece()], { protocol: 2, cursor: Buffer.from("hello").toString("base64url") }), 400, "invalid_cursor", "cursor"],
  ["sessions cursor this server never issued", "/sessions", () => ({ sessions: [session()], protocol: 2, cursor: "Zm9vfDE" }), 400, "invalid_cursor", "cursor"],
  // Regression (issue 9): a forged cursor far in the future was accepted and hid every change.
  ["a forged cursor in the year 2999", "/pieces", () => sync([piece()], { protocol: 2, cursor: forgedCursor("2999-01-01T00:00:00.000Z") }), 400, "invalid_cursor", "cursor"],
];

type PieceCase = [name: string, route: "/pieces" | "/sessions", bad: () => Record<string, unknown>, code: string, field?: string];

// Wrong in one piece or session only: the request syncs (200) and that entry alone is
// refused: never acknowledged, nothing of it written, listed with its reason for
// protocol-2 clients. The shipped app retries a failed request unchanged forever, so a
// 4xx here would stop every later edit of that user from syncing (issue 9).
const pieceCases: PieceCase[] = [
  ["title is a number", "/pieces", () => piece({ title: 5 }), "invalid_piece", "pieces.1.title"],
  ["version is a string", "/pieces", () => piece({ version: "3" }), "invalid_piece", "pieces.1.version"],
  ["version is negative", "/pieces", () => piece({ version: -1 }), "invalid_piece", "pieces.1.version"],
  ["version is fractional", "/pieces", () => piece({ version: 1.5 }), "invalid_piece", "pieces.1.version"],
  ["version past 2^53", "/pieces", () => piece({ version: 2 ** 53 }), "invalid_piece", "pieces.1.version"],
  ["version with no server version left above it", "/pieces", () => piece({ version: MAX_ISSUED_VERSION + 5 }), "version_exhausted"],
  ["a flag is the string true", "/pieces", () => piece({ includeInPractice: "true" }), "invalid_piece", "pieces.1.includeInPractice"],
  ["an optional field is null", "/pieces", () => piece({ notes: null }), "invalid_piece", "pieces.1.notes"],
  ["category not oli or mele", "/pieces", () => piece({ category: "hula" }), "invalid_piece", "pieces.1.category"],
  ["language not an ISO 639 code", "/pieces", () => piece({ language: "Hawaiian!" }), "invalid_piece", "pieces.1.language"],
  // Regression (issue 9): a 450 KB language gave a 500 after earlier pieces were written.
  ["language of 450 KB", "/pieces", () => piece({ language: "h".repeat(450 * KB) }), "invalid_piece", "pieces.1.language"],
  ["date not ISO-8601", "/pieces", () => piece({ modifiedAt: "yesterday" }), "invalid_piece", "pieces.1.modifiedAt"],
  ["date that does not exist", "/pieces", () => piece({ createdAt: "2025-13-45T25:61:00Z" }), "invalid_piece", "pieces.1.createdAt"],
  ...(["title", "category", "lyrics", "createdAt", "modifiedAt", "version", "locallyModified", "isFavorite", "pieceId"] as const).map(
    (k): PieceCase => [`piece without ${k}`, "/pieces", () => without(piece(), k), "invalid_piece", `pieces.1.${k}`],
  ),
  ["a piece that is not an object", "/pieces", () => 7 as any, "invalid_piece", "pieces.1"],
  // Regression (issue 9): an unpaired surrogate was stored, and Swift's decoder then failed every sync.
  ["an unpaired surrogate in the lyrics", "/pieces", () => piece({ lyrics: "ʻO ka \ud83c mele" }), "invalid_unicode"],
  ["a piece larger than a DynamoDB item", "/pieces", () => piece({ lyrics: "l".repeat(MAX_PIECE_ITEM_BYTES) }), "too_large"],
  ["pieceId not a UUID", "/pieces", () => piece({ pieceId: "not-a-uuid" }), "invalid_piece", "pieces.1.pieceId"],
  ["pieceId a path", "/pieces", () => piece({ pieceId: "../../#sync" }), "invalid_piece", "pieces.1.pieceId"],
  ["pieceId the counter's key", "/pieces", () => piece({ pieceId: "#sync" }), "invalid_piece", "pieces.1.pieceId"],
  ["pieceId empty", "/pieces", () => piece({ pieceId: "" }), "invalid_piece", "pieces.1.pieceId"],
  // The valid piece's id in lower case: the same piece (ids compare upper-case).
  ["the same pieceId twice", "/pieces", () => ({ title: "twin" }), "duplicate_id"],
  ["sessionId not a UUID", "/sessions", () => session({ sessionId: "s-1" }), "invalid_session", "sessions.1.sessionId"],
  ["session pieceId not a UUID", "/sessions", () => session({ pieceId: "p" }), "invalid_session", "sessions.1.pieceId"],
  ["session without startedAt", "/sessions", () => without(session(), "startedAt"), "invalid_session", "sessions.1.startedAt"],
  ["session endedAt not a date", "/sessions", () => session({ endedAt: "later" }), "invalid_session", "sessions.1.endedAt"],
  ["the same sessionId twice", "/sessions", () => ({ endedAt: T }), "duplicate_id"],
];

describe("hostile input through the handlers", () => {
  const user = `hostile-${process.pid}`;
  let dev: Device;
  beforeAll(async () => {
    // The user already has data, so "nothing written" covers changes as well as additions.
    dev = new Device("phone", user, h.transport(user), new DeviceClock());
    const p = dev.createPiece({ title: "already here" });
    dev.recordSession(p.pieceId);
    expect((await dev.syncPieces()).status).toBe(200);
    expect((await dev.syncSessions()).status).toBe(200);
  });

  // Rows padded to six: jest takes a sixth parameter the row lacks as a done callback.
  const rows = cases.map(([n, r, m, s, c, f]) => [n, r, m, s, c, f] as Case);
  test.each(rows)("%s on %s: a 4xx with its code, nothing written, the next request succeeds", async (_name, route, make, status, code, field) => {
    const before = await snapshot(h.tables);
    const body = make();
    const r = await h.call(route, user, typeof body === "string" ? body : JSON.stringify(body));
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe("string");
    expect(Object.keys(r.body)).toEqual(["error"]);
    if (field) expect(r.body.error.fields.map((f: any) => f.path)).toContain(field);
    expect(r.raw).not.toMatch(/\bat \S+ \(|Zod|TypeError|RangeError|SyntaxError|node_modules|\/work\//);
    expect(r.raw.length).toBeLessThan(8 * KB);
    expect(await snapshot(h.tables)).toEqual(before);

    // The same user's next valid request goes through (and writes).
    const q = dev.createPiece();
    dev.recordSession(q.pieceId);
    const ok = await dev.syncPieces();
    expect(ok.status).toBe(200);
    expect(ok.body.updatedPieces.map((x: any) => x.pieceId)).toContain(q.pieceId);
    expect((await dev.syncSessions()).status).toBe(200);
  });

  const pieceRows = pieceCases.map(([n, r, m, c, f]) => [n, r, m, c, f] as PieceCase);
  test.each(pieceRows)("%s on %s: that entry alone is refused, the rest syncs", async (name, route, bad, code, field) => {
    for (const protocol of [1, 2] as const) {
      const good = route === "/pieces" ? piece({ title: `good ${name}` }) : session();
      const key = route === "/pieces" ? "pieceId" : "sessionId";
      // A twin is the good entry again, its id in lower case.
      const entry = code === "duplicate_id" ? { ...good, [key]: String(good[key as keyof typeof good]).toLowerCase(), ...bad() } : bad();
      const badId = typeof entry?.[key] === "string" && /^[0-9a-f-]{36}$/i.test(entry[key] as string) ? String(entry[key]).toUpperCase() : undefined;
      const extra = protocol === 2 ? { protocol: 2 } : {};
      const body = route === "/pieces" ? sync([good, entry], extra) : { sessions: [good, entry], ...extra };
      const before = await snapshot(h.tables);
      h.logs.length = 0;
      const r = await h.call(route, user, JSON.stringify(body));
      expect(r.status).toBe(200);
      expect(r.raw).not.toMatch(/\bat \S+ \(|Zod|TypeError|RangeError|SyntaxError|node_modules|\/work\//);
      const goodId = String(good[key as keyof typeof good]);
      if (route === "/pieces") {
        expect(r.body.uploadedPieces).toEqual([goodId]);
        expect(r.body.updatedPieces.map((x: any) => x.pieceId)).toEqual([goodId]);
      } else {
        expect(r.body.uploadedSessions).toEqual([goodId]);
      }
      // Nothing of the refused entry is written: only the good one (and the counter) changed.
      const after = await snapshot(h.tables);
      const added = after.filter((l) => !before.includes(l));
      expect(added.some((l) => l.includes(goodId))).toBe(true);
      if (badId && badId !== goodId) expect(after.some((l) => l.includes(badId))).toBe(false);
      expect(added.some((l) => /"title":"twin"|"endedAt":"2025-06-18T12:00:00Z"/.test(l) && code === "duplicate_id")).toBe(false);
      // Logged with its reason, never its content.
      const line = JSON.parse(h.logs[h.logs.length - 1]);
      expect(line).toMatchObject({ status: 200, refused: 1 });
      expect(line.refusedReasons).toBe(`1:${code}`);
      if (protocol === 2) {
        const list = route === "/pieces" ? r.body.refusedPieces : r.body.refusedSessions;
        expect(list).toHaveLength(1);
        expect(list[0]).toMatchObject({ index: 1, code });
        if (badId) expect(list[0][key]).toBe(badId);
        if (field) expect(list[0].fields.map((f: any) => f.path)).toContain(field);
      } else {
        expect(r.body).not.toHaveProperty("refusedPieces");
        expect(r.body).not.toHaveProperty("refusedSessions");
      }
    }
  });

  test("the log line of a rejected request carries no payload", async () => {
    h.logs.length = 0;
    const secret = "kapu-secret-lyrics";
    await h.call("/pieces", user, sync([piece({ lyrics: secret })], { operation: "nope" }));
    await h.call("/pieces", user, sync([piece({ lyrics: secret, title: 7 })]));
    expect(h.logs).toHaveLength(2);
    expect(JSON.parse(h.logs[0])).toMatchObject({ status: 400, errorCode: "invalid_request" });
    expect(JSON.parse(h.logs[1])).toMatchObject({ status: 200, refused: 1, refusedReasons: "0:invalid_piece" });
    for (const l of h.logs) expect(l).not.toContain(secret);
  });
});

describe("another user's ids", () => {
  test("user B pushing, deleting and sessioning A's ids never touches A's data", async () => {
    const a = `owner-${process.pid}`;
    const b = `intruder-${process.pid}`;
    const alice = new Device("alice", a, h.transport(a));
    const p = alice.createPiece({ title: "Alice's mele", notes: "hers" });
    const s = alice.recordSession(p.pieceId);
    await alice.syncPieces();
    await alice.syncSessions();
    const aliceItems = async () => (await snapshot(h.tables)).filter((l) => l.includes(`"userId":"${a}"`));
    const before = await aliceItems();
    expect(before.length).toBeGreaterThanOrEqual(3); // piece, session, counter

    // Same pieceId, a higher version, locally modified, claiming to be Alice in the body.
    const forged = { ...alice.pieces.get(p.pieceId)!, userId: a, title: "defaced", version: 99, locallyModified: true };
    const r1 = await h.call("/pieces", b, sync([forged]));
    expect(r1.status).toBe(200);
    expect(r1.body.updatedPieces.map((x: any) => x.userId)).toEqual([b]);
    // Protocol 2 delete of Alice's piece, and a session with Alice's id ending later.
    const r2 = await h.call("/pieces", b, sync([], { protocol: 2, deletedPieces: [{ pieceId: p.pieceId, version: 1 }] }));
    expect(r2.status).toBe(200);
    const r3 = await h.call("/sessions", b, { sessions: [{ ...s, userId: a, endedAt: "2030-01-01T00:00:00Z" }] });
    expect(r3.status).toBe(200);
    // Alice's cursor in Bob's request is refused (regression, issue 9: it was accepted).
    const ac = await h.call("/pieces", a, sync([], { protocol: 2 }));
    const r4 = await h.call("/pieces", b, sync([], { protocol: 2, cursor: ac.body.cursor }));
    expect(r4.status).toBe(400);
    expect(r4.body.error.code).toBe("invalid_cursor");
    const r5 = await h.call("/sessions", b, { sessions: [] });
    for (const body of [r1.body, r2.body]) {
      for (const x of [...body.serverPieces, ...(body.updatedPieces ?? [])]) expect(x.title).not.toBe("Alice's mele");
    }
    expect(r5.body.serverSessions.every((x: any) => x.userId === b)).toBe(true);

    expect(await aliceItems()).toEqual(before);
    const check = new Device("alice-2", a, h.transport(a));
    await check.syncPieces();
    await check.syncSessions();
    expect(check.content(p.pieceId)).toMatchObject({ title: "Alice's mele", notes: "hers" });
    expect(check.pieces.get(p.pieceId)!.version).toBe(VERSION_STEP);
    expect(check.sessions.get(s.sessionId)!.s.endedAt).toBe(s.endedAt);
  });
});

describe("hostile input over HTTP (local server)", () => {
  let server: LocalServer;
  let stateDir: string;
  let token: string;
  const user = `hostile-http-${process.pid}`;
  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-hostile-"));
    process.env.HAUMANA_LOCAL_DIR = stateDir;
    server = await startLocalServer({ dynamoEndpoint: localEndpoint(), tablePrefix: `hostile-${process.pid}`, cognito: "off" });
    token = await issueDevToken({ sub: user });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  const post = async (route: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}${route}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
  };

  test.each<[string, string, () => string, number, string]>([
    ["malformed JSON", "/pieces", () => "{nope", 400, "invalid_json"],
    ["body over 6 MB", "/pieces", () => JSON.stringify(sync([piece()], { pad: "x".repeat(7 * KB * KB) })), 413, "payload_too_large"],
    ["20,001 pieces", "/pieces", () => JSON.stringify(sync(Array.from({ length: MAX_PIECES_PER_REQUEST + 1 }, () => tiny()))), 400, "too_many_items"],
    ["sessions that is not a list", "/sessions", () => JSON.stringify({ sessions: "1 OR 1=1" }), 400, "invalid_request"],
    ["a body that is not UTF-8 JSON", "/pieces", () => "\u0000\u0001\u0002", 400, "invalid_json"],
  ])("%s on %s: %i %s, nothing written, next request succeeds", async (_name, route, make, status, code) => {
    const before = await snapshot(server);
    const r = await post(route, make());
    expect(r.status).toBe(status);
    expect(r.json.error.code).toBe(code);
    expect(r.text).not.toMatch(/\bat \S+ \(|Zod|Error:|node_modules/);
    expect(await snapshot(server)).toEqual(before);
    const ok = await post("/pieces", JSON.stringify(sync([piece()])));
    expect(ok.status).toBe(200);
    expect(ok.json.updatedPieces).toHaveLength(1);
  });

  test("unknown routes and methods are 404 with a code, whoever asks", async () => {
    for (const [method, route] of [["GET", "/pieces"], ["POST", "/admin"], ["DELETE", "/sessions"], ["POST", "/pieces/../admin"]]) {
      const res = await fetch(`${server.url}${route}`, { method, headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("not_found");
    }
  });
});
