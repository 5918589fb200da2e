// Issue 9: the sync API against the app as it really behaves (tests/helpers/device.ts:
// local version bumps at practice starts and favourite toggles, cold starts without
// lastSyncedAt, dates read only with a fraction), on DynamoDB Local through the real
// routes. One test per defect the issue lists; each failed on the code before it.
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { MAX_PIECE_ITEM_BYTES, VERSION_STEP } from "../lib/limits";
import { SYNC_STATE_KEY } from "../lib/tables";
import { importPieces } from "../functions/core/pieces";
import { Device, DeviceClock } from "./helpers/device";
import { FaultyClient, withFaults } from "./helpers/faults";
import { createHarness, Harness } from "./helpers/sync-harness";

jest.setTimeout(180_000);

let h: Harness;
let faults: FaultyClient;
beforeAll(async () => {
  h = await createHarness("realapp", { doc: (doc) => (faults = withFaults(doc)).doc, store: { sleep: async () => undefined, maxAttempts: 3 } });
});
afterAll(async () => h.done());
afterEach(() => faults.clear());

let n = 0;
const newUser = () => `realapp-${process.pid}-${++n}`;
const KB = 1024;
const MB = 1024 * KB;

function pair(user: string, clock = new DeviceClock()) {
  return [new Device("a", user, h.transport(user), clock), new Device("b", user, h.transport(user), clock)] as const;
}

/** Every item of a user's pieces on the server, by id. */
async function serverPieces(user: string) {
  const r = await h.tables.doc.send(
    new QueryCommand({ TableName: h.tables.piecesTable, KeyConditionExpression: "userId = :u", ExpressionAttributeValues: { ":u": user }, ConsistentRead: true }),
  );
  return new Map((r.Items ?? []).filter((i) => i.pieceId !== SYNC_STATE_KEY).map((i) => [String(i.pieceId), i]));
}

/** Both devices synced until neither has anything pending. */
async function settle(...devices: Device[]) {
  for (let i = 0; i < 3; i++) for (const d of devices) expect((await d.syncNow()).pieces.status).toBe(200);
}

describe("versions: a pushed version is the last server version plus local bumps", () => {
  test.each([
    ["a practice start", (d: Device, id: string) => void d.recordSession(id)],
    ["a favourite toggle on the practice screen", (d: Device, id: string) => d.toggleFavorite(id)],
    ["two offline practice starts (a version the server never issued)", (d: Device, id: string) => {
      d.recordSession(id);
      d.recordSession(id);
    }],
  ])("%s on a device that missed another device's lyrics edit keeps that edit on the server and both devices", async (_name, bump) => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ lyrics: "first lyrics" });
    await settle(a, b);
    expect(a.pieces.get(p.pieceId)!.version).toBe(b.pieces.get(p.pieceId)!.version);
    b.edit(p.pieceId, { lyrics: "B's new lyrics" });
    expect((await b.syncNow()).pieces.status).toBe(200);
    const favBefore = a.pieces.get(p.pieceId)!.isFavorite;
    bump(a, p.pieceId);
    const r = await a.syncNow();
    expect(r.pieces.status).toBe(200);
    await settle(a, b);
    const server = (await serverPieces(user)).get(p.pieceId)!;
    expect(server.lyrics).toBe("B's new lyrics");
    for (const d of [a, b]) expect(d.content(p.pieceId)).toMatchObject({ lyrics: "B's new lyrics" });
    // A's own change (if any) is kept too.
    expect(server.isFavorite).toBe(a.pieces.get(p.pieceId)!.isFavorite);
    if (_name.startsWith("a favourite")) expect(server.isFavorite).toBe(!favBefore);
  });

  test("a first upload gets a server version, so an editor save on one device survives a practice start on another (defect 1)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ title: "first title" });
    await settle(a, b);
    a.edit(p.pieceId, { title: "A's edit" }); // the editor: no bump
    await a.syncNow();
    b.recordSession(p.pieceId); // B's version: the first one + 1
    await b.syncNow();
    await settle(a, b);
    for (const d of [a, b]) expect(d.content(p.pieceId)!.title).toBe("A's edit");
  });

  test("a version near 2^31 is followed by a server version the validator accepts (defect 9)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece();
    a.pieces.get(p.pieceId)!.version = 2147483647;
    const r = await a.syncNow();
    const v = r.pieces.body.updatedPieces[0].version;
    expect(v).toBeGreaterThan(2147483647);
    expect(v % VERSION_STEP).toBe(0);
    expect(Number.isSafeInteger(v + 1000)).toBe(true);
    a.recordSession(p.pieceId);
    a.edit(p.pieceId, { notes: "later" });
    const next = await a.syncNow();
    expect(next.pieces.body.updatedPieces.map((x: any) => x.pieceId)).toEqual([p.pieceId]);
    await b.syncNow();
    expect(b.content(p.pieceId)!.notes).toBe("later");
  });

  test("a field nobody else touched is kept when the device's base is older than the kept history (defect 11)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ notes: "old notes" });
    await settle(a, b);
    // Twelve favourite toggles on A, each synced: far more versions than any history keeps.
    for (let i = 0; i < 12; i++) {
      a.toggleFavorite(p.pieceId);
      expect((await a.syncNow()).pieces.status).toBe(200);
    }
    b.edit(p.pieceId, { notes: "B's notes" }); // based on the first version
    await b.syncNow();
    await settle(a, b);
    const server = (await serverPieces(user)).get(p.pieceId)!;
    expect(server.notes).toBe("B's notes");
    expect(server.isFavorite).toBe(false); // twelve toggles: back to false, A's word
    for (const d of [a, b]) expect(d.content(p.pieceId)).toMatchObject({ notes: "B's notes", isFavorite: false });
  });
});

describe("dates", () => {
  test("syncedAt carries a fraction, so a device whose clock is hours ahead still gets every later edit", async () => {
    const user = newUser();
    const shared = new DeviceClock();
    const ahead = new Device("ahead", user, h.transport(user), new DeviceClock(shared.ms + 2 * 3600 * 1000));
    const other = new Device("other", user, h.transport(user), shared);
    const p = other.createPiece({ title: "v1" });
    await other.syncNow();
    const r = await ahead.syncNow();
    expect(r.pieces.body.syncedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The app took the server's time, not its own clock.
    expect(ahead.lastSyncedAt).toBe(r.pieces.body.syncedAt);
    other.edit(p.pieceId, { title: "v2" });
    await other.syncNow();
    await ahead.syncNow(); // incremental: lastSyncedAt is set
    expect(ahead.content(p.pieceId)!.title).toBe("v2");
  });

  test("a piece new to a device keeps its creation and edit dates (not the time it arrived)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ createdAt: "2024-01-02T03:04:05.000Z", modifiedAt: "2024-02-03T04:05:06.000Z" });
    await a.syncNow();
    await b.syncNow();
    expect(b.pieces.get(p.pieceId)).toMatchObject({ createdAt: "2024-01-02T03:04:05.000Z", modifiedAt: "2024-02-03T04:05:06.000Z" });
  });

  test("a lastSyncedAt later than anything the server issued hides nothing (defect 7)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ title: "made before the future" });
    await a.syncNow();
    b.lastSyncedAt = "2031-01-01T00:00:00.000Z";
    await b.syncNow();
    expect(b.content(p.pieceId)?.title).toBe("made before the future");
  });
});

describe("any piece the server lacks is stored, at any sync", () => {
  /** A device holding pieces as synced (from the old backend, which acknowledged edits it never stored). */
  function holding(user: string, count: number, label: string) {
    const d = new Device(label, user, h.transport(user));
    for (let i = 0; i < count; i++) {
      const p = d.createPiece({ title: `${label} ${i}` });
      Object.assign(p, { locallyModified: false, version: 3 + i });
    }
    return d;
  }

  test("after a /sessions call came first", async () => {
    const user = newUser();
    const d = holding(user, 3, "phone");
    d.recordSession([...d.pieces.keys()][0]);
    expect((await d.syncSessions()).status).toBe(200);
    await d.syncNow();
    expect((await serverPieces(user)).size).toBe(3);
  });

  test("after a first sync that failed half-way", async () => {
    const user = newUser();
    const d = holding(user, 150, "phone"); // two transactions
    let commits = 0;
    faults.decide = (name) => (name === "TransactWriteCommand" && ++commits > 1 ? "throttle" : undefined);
    const first = await d.syncPieces();
    faults.decide = undefined;
    expect(first.status).toBe(503);
    expect((await serverPieces(user)).size).toBe(99);
    await d.syncNow();
    const stored = await serverPieces(user);
    expect(stored.size).toBe(150);
    for (const p of d.pieces.values()) expect(stored.get(p.pieceId)!.title).toBe(p.title);
  });

  test("when several devices sync for the first time at once", async () => {
    const user = newUser();
    const devices = [holding(user, 5, "d1"), holding(user, 5, "d2"), holding(user, 5, "d3")];
    const results = await Promise.all(devices.map((d) => d.syncPieces()));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await Promise.all(devices.map((d) => d.syncNow()));
    expect((await serverPieces(user)).size).toBe(15);
    const fresh = new Device("fresh", user, h.transport(user));
    await fresh.syncNow();
    expect(fresh.pieces.size).toBe(15);
  });

  test("at a later sync of a device the server already knows", async () => {
    const user = newUser();
    const [a] = pair(user);
    a.createPiece({ title: "synced long ago" });
    await settle(a);
    const restored = a.createPiece({ title: "acknowledged by the old backend, never stored" });
    Object.assign(restored, { locallyModified: false, version: 9 });
    await a.syncNow();
    expect((await serverPieces(user)).get(restored.pieceId)?.title).toBe("acknowledged by the old backend, never stored");
    expect(a.pieces.get(restored.pieceId)!.version % VERSION_STEP).toBe(0);
  });
});

test("importPieces (the migration's write path) stores what the server lacks and leaves what it holds", async () => {
  const user = newUser();
  const [a, b] = pair(user);
  const held = a.createPiece({ title: "already on the server" });
  await a.syncNow();
  const old = new Device("old", user, h.transport(user));
  const copy = { ...held, title: "older copy from the old backend", version: 4 };
  const fresh = old.createPiece({ title: "only in the old backend", modifiedAt: "2025-06-20T10:00:00.000Z" });
  const body = old.piecesBody().pieces as any[];
  const r = await importPieces(h.store, user, [
    { ...copy, createdAt: "2025-06-01T00:00:00Z", modifiedAt: "2025-06-01T00:00:00Z", locallyModified: true },
    body.find((p) => p.pieceId === fresh.pieceId),
  ] as any);
  expect(r).toEqual([{ status: "present" }, { status: "stored", version: VERSION_STEP }]);
  await b.syncNow();
  expect(b.content(held.pieceId)!.title).toBe("already on the server");
  expect(b.pieces.get(fresh.pieceId)).toMatchObject({ title: "only in the old backend", modifiedAt: "2025-06-20T10:00:00.000Z", version: VERSION_STEP });
});

describe("sizes", () => {
  const bigLyrics = (tag: string) => `${tag} ` + "ʻ".repeat(49 * KB); // about 99 KB in UTF-8

  test("merges that write far more than the device sent fit their transactions (defect 2)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    for (let i = 0; i < 45; i++) a.createPiece({ title: `p${i}`, lyrics: "short" });
    await settle(a, b);
    for (const p of a.pieces.values()) a.edit(p.pieceId, { lyrics: bigLyrics(p.title) });
    for (let i = 0; i < 4; i++) expect((await a.syncNow()).pieces.status).toBe(200);
    // B still holds the short lyrics and toggles every favourite: a small request whose merges write ~4.5 MB.
    for (const id of b.pieces.keys()) b.toggleFavorite(id);
    for (let i = 0; i < 6; i++) {
      const r = await b.syncNow();
      expect(r.pieces.status).toBe(200);
      if (![...b.pieces.values()].some((p) => p.locallyModified)) break;
    }
    const stored = await serverPieces(user);
    for (const p of stored.values()) {
      expect(p.isFavorite).toBe(true);
      expect(String(p.lyrics).startsWith(String(p.title))).toBe(true);
    }
  });

  test("push results count toward the 6 MB answer, and the device gets the rest later (defect 3)", async () => {
    const user = newUser();
    const [a] = pair(user);
    for (let i = 0; i < 80; i++) a.createPiece({ title: `p${i}`, lyrics: "short" });
    await settle(a);
    const stale = a.piecesBody().pieces as any[];
    // 80 pieces of ~99 KB: more than a v1 request can carry (6 MB), so the big lyrics go
    // in as protocol-2 pushes of 20 changed pieces each.
    for (let i = 0; i < 80; i += 20) {
      const edits = stale.slice(i, i + 20).map((p) => ({ ...p, lyrics: bigLyrics(p.title), modifiedAt: "2025-06-19T00:00:00Z", locallyModified: true }));
      const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: edits });
      expect(r.body.uploadedPieces).toHaveLength(20);
    }
    // A protocol-2 client pushing favourite toggles on its stale copies: a few KB in.
    const body = { operation: "sync", protocol: 2, pieces: stale.map((p) => ({ ...p, isFavorite: true, modifiedAt: "2025-06-20T00:00:00Z", locallyModified: true })) };
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(64 * KB);
    const got = new Map<string, any>();
    for (let i = 0; i < 4; i++) {
      const r = await h.call("/pieces", user, { ...body, pieces: body.pieces.filter((p) => !got.has(p.pieceId)) });
      expect(r.status).toBe(200);
      const asLambdaReturnsIt = Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { "Content-Type": "application/json" }, body: r.raw }));
      expect(asLambdaReturnsIt).toBeLessThan(6 * MB);
      for (const p of r.body.serverPieces) got.set(p.pieceId, p);
      if (got.size === 80) break;
    }
    expect(got.size).toBe(80);
    for (const p of got.values()) expect(p).toMatchObject({ isFavorite: true, lyrics: expect.stringMatching(/^p\d+ ʻ/) });
  });

  test("everything the app lets a user save, up to a DynamoDB item, is stored and comes back whole", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({
      title: "T".repeat(1000), // the app's editor sets no limit
      lyrics: "l".repeat(150 * KB),
      englishTranslation: "e".repeat(100 * KB),
      notes: "n".repeat(100 * KB),
      author: "a".repeat(5000),
      sourceUrl: "https://example.com/" + "u".repeat(3000),
    });
    const r = await a.syncNow();
    expect(r.pieces.body.uploadedPieces).toEqual([p.pieceId]);
    await b.syncNow();
    expect(b.content(p.pieceId)).toEqual(a.content(p.pieceId));
  });

  test("a piece too large to store never stops the rest of that device's sync (defect 6)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const huge = a.createPiece({ title: "huge", lyrics: "x".repeat(MAX_PIECE_ITEM_BYTES) });
    const ok = a.createPiece({ title: "fine" });
    const r = await a.syncNow();
    expect(r.pieces.status).toBe(200);
    expect(r.pieces.body.uploadedPieces).toEqual([ok.pieceId]);
    expect(a.pieces.get(huge.pieceId)!.locallyModified).toBe(true);
    // Every later edit still syncs.
    a.edit(ok.pieceId, { notes: "later edit" });
    a.recordSession(ok.pieceId);
    expect((await a.syncNow()).pieces.status).toBe(200);
    await b.syncNow();
    expect(b.content(ok.pieceId)!.notes).toBe("later edit");
    expect(b.pieces.has(huge.pieceId)).toBe(false);
  });

  test("two edits that fit alone but not merged: the second is refused, kept on its device, and nothing else stops", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ title: "grows" });
    await settle(a, b);
    a.edit(p.pieceId, { lyrics: "l".repeat(250 * KB) });
    b.edit(p.pieceId, { notes: "n".repeat(250 * KB) });
    await a.syncNow();
    const r = await b.syncNow();
    expect(r.pieces.status).toBe(200);
    expect(r.pieces.body.uploadedPieces).toEqual([]);
    expect(b.pieces.get(p.pieceId)).toMatchObject({ locallyModified: true, notes: "n".repeat(250 * KB) });
    const logged = JSON.parse(h.logs.filter((l) => l.includes("POST /pieces")).pop()!);
    expect(logged).toMatchObject({ refused: 1, refusedReasons: "0:too_large" });
  });
});

describe("ids and values the app would choke on", () => {
  test("an empty title or lyrics is answered with the key present (defect 4)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ title: "", lyrics: "" });
    await a.syncNow();
    const r = await b.syncNow(); // strict decoding: a missing key fails the whole sync
    expect(r.pieces.status).toBe(200);
    expect(r.pieces.body.serverPieces[0]).toMatchObject({ pieceId: p.pieceId, title: "", lyrics: "" });
    expect(b.pieces.size).toBe(1);
  });

  test("a lower-case pieceId is the same piece as its upper-case form, and a delete with it works (defect 5)", async () => {
    const user = newUser();
    const [a, b] = pair(user);
    const p = a.createPiece({ title: "one piece" });
    await a.syncNow();
    const lower = { ...a.piecesBody().pieces[0], pieceId: p.pieceId.toLowerCase(), title: "edited in lower case", locallyModified: true };
    const r = await h.call("/pieces", user, { operation: "sync", pieces: [lower] });
    expect(r.body.uploadedPieces).toEqual([p.pieceId]);
    await b.syncNow(); // would throw on a lower-case id: the app would hold the UUID twice
    expect([...b.pieces.keys()]).toEqual([p.pieceId]);
    expect(b.content(p.pieceId)!.title).toBe("edited in lower case");
    const del = await h.call("/pieces", user, {
      operation: "sync",
      protocol: 2,
      pieces: [],
      deletedPieces: [{ pieceId: p.pieceId.toLowerCase(), version: r.body.updatedPieces[0].version }],
    });
    expect(del.body.acceptedDeletes).toEqual([p.pieceId]);
    expect((await serverPieces(user)).get(p.pieceId)!.deleted).toBe(true);
  });
});
