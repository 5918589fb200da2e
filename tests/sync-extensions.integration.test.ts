// Protocol 2 (opt in with "protocol": 2): explicit paging, deletes with
// tombstones, and the conflict report. And proof that none of it leaks into a v1
// answer.
import { VERSION_STEP } from "../lib/limits";
import { encodeCursor } from "../functions/core/sync-engine";
import { Device, DeviceClock } from "./helpers/device";
import { createHarness, Harness } from "./helpers/sync-harness";

let h: Harness;
beforeAll(async () => (h = await createHarness("ext")));
afterAll(async () => h.done());
let n = 0;
const newUser = () => `ext-user-${++n}`;

async function pageAll(user: string, limit: number, cursor?: string) {
  const got: any[] = [];
  const deleted: any[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], limit, ...(cursor ? { cursor } : {}) });
    expect(r.status).toBe(200);
    expect(r.body.serverPieces.length).toBeLessThanOrEqual(limit);
    got.push(...r.body.serverPieces);
    deleted.push(...r.body.deletedPieces);
    cursor = r.body.cursor;
    if (!r.body.hasMore) return { got, deleted, cursor, pages: i + 1 };
  }
  throw new Error("paging did not end");
}

test("paging: a cursor and a limit deliver every piece once, in bounded pages", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  for (let i = 0; i < 45; i++) a.createPiece({ title: `p${i}` });
  await a.syncPieces();
  const { got, pages, cursor } = await pageAll(user, 10);
  expect(pages).toBe(5);
  expect(got).toHaveLength(45);
  expect(new Set(got.map((p) => p.pieceId))).toEqual(new Set(a.pieces.keys()));
  // After catching up, only new changes arrive.
  const q = a.createPiece({ title: "later" });
  await a.syncPieces();
  const next = await pageAll(user, 10, cursor);
  expect(next.got.map((p) => p.pieceId)).toEqual([q.pieceId]);
});

test("deletes: a tombstone reaches protocol-2 devices and never a v1 answer", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  const keep = a.createPiece({ title: "keep" });
  const gone = a.createPiece({ title: "gone" });
  await a.syncPieces();
  const before = await pageAll(user, 50);

  const del = await h.call("/pieces", user, {
    operation: "sync",
    protocol: 2,
    pieces: [],
    cursor: before.cursor,
    deletedPieces: [{ pieceId: gone.pieceId, version: a.pieces.get(gone.pieceId)!.version }],
  });
  expect(del.status).toBe(200);
  expect(del.body.acceptedDeletes).toEqual([gone.pieceId]);
  expect(del.body.deletedPieces).toEqual([expect.objectContaining({ pieceId: gone.pieceId, version: 2 * VERSION_STEP })]);

  // A fresh v1 device gets only the live piece, and no unknown shape.
  const v1 = new Device("v1", user, h.transport(user));
  const r = await v1.syncPieces();
  expect(Object.keys(r.body).sort()).toEqual(["serverPieces", "syncedAt", "updatedPieces", "uploadedPieces"]);
  expect(r.body.serverPieces.map((p: any) => p.pieceId)).toEqual([keep.pieceId]);
  // An old v1 device that still has the piece hears nothing about it either.
  const rOld = await a.syncPieces();
  expect(rOld.body.serverPieces).toEqual([]);
});

test("deletes: an edit beats a concurrent delete, and the deleting device is told", async () => {
  const user = newUser();
  const clock = new DeviceClock();
  const a = new Device("a", user, h.transport(user), clock);
  const p = a.createPiece({ title: "contested" });
  await a.syncPieces();
  a.edit(p.pieceId, { notes: "edited after the other device looked" });
  await a.syncPieces(); // now the second version
  const del = await h.call("/pieces", user, {
    operation: "sync",
    protocol: 2,
    pieces: [],
    deletedPieces: [{ pieceId: p.pieceId, version: VERSION_STEP }],
  });
  expect(del.body.acceptedDeletes).toEqual([]);
  expect(del.body.conflicts).toEqual([
    expect.objectContaining({ pieceId: p.pieceId, resolution: "server-kept", strategy: "edit-beats-delete" }),
  ]);
  expect(del.body.serverPieces.find((x: any) => x.pieceId === p.pieceId).notes).toBe("edited after the other device looked");

  // And an edit pushed to a deleted piece brings it back.
  const q = a.createPiece({ title: "deleted then edited" });
  await a.syncPieces();
  const qDel = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], deletedPieces: [{ pieceId: q.pieceId, version: VERSION_STEP }] });
  expect(qDel.body.acceptedDeletes).toEqual([q.pieceId]);
  a.edit(q.pieceId, { lyrics: "kept" });
  const back = await a.syncPieces();
  expect(back.body.updatedPieces.map((x: any) => x.pieceId)).toContain(q.pieceId);
  // Above the tombstone's version, so every device takes it.
  expect(a.pieces.get(q.pieceId)!.version).toBe(3 * VERSION_STEP);
  const fresh = new Device("fresh", user, h.transport(user));
  await fresh.syncPieces();
  expect(fresh.content(q.pieceId)?.lyrics).toBe("kept");
});

test("conflict report: protocol 2 says which pushed edits were merged or lost, and why", async () => {
  const user = newUser();
  const clock = new DeviceClock();
  const a = new Device("a", user, h.transport(user), clock);
  const p = a.createPiece({ title: "t", notes: "n" });
  await a.syncPieces();
  const base = { ...a.pieces.get(p.pieceId)! };
  a.edit(p.pieceId, { title: "t from a" });
  await a.syncPieces();
  const stale = { ...base, notes: "n from b", modifiedAt: clock.tick(), locallyModified: true };
  const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [stale] });
  expect(r.body.conflicts).toEqual([
    expect.objectContaining({ pieceId: p.pieceId, resolution: "merged", strategy: "three-way", deviceFieldsLost: [] }),
  ]);
  expect(r.body.serverPieces[0]).toMatchObject({ title: "t from a", notes: "n from b", version: 3 * VERSION_STEP });
  // A v1 request in the same situation gets the same winner, without the report.
  const v1 = await h.call("/pieces", user, { operation: "sync", pieces: [{ ...stale, title: "t from c", modifiedAt: "2020-01-01T00:00:00Z", version: 1 }] });
  expect(v1.body).not.toHaveProperty("conflicts");
  expect(v1.body.serverPieces[0]).toMatchObject({ title: "t from a", notes: "n from b" });
});

test("an expired cursor asks the device to start over", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  a.createPiece();
  await a.syncPieces();
  const old = encodeCursor("2020-01-01T00:00:00.000Z|000000000001", user);
  const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], cursor: old });
  expect(r.body.cursorExpired).toBe(true);
  expect(r.body.serverPieces).toHaveLength(1);
  const bad = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], cursor: "bm90LWEtY3Vyc29y" });
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe("invalid_cursor");
});

test("a piece both sent and deleted, or deleted twice, in one request is a 400 and nothing is written", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  const p = a.createPiece();
  await a.syncPieces();
  const piece = { ...a.pieces.get(p.pieceId)!, title: "edited", locallyModified: true };
  for (const body of [
    { operation: "sync", protocol: 2, pieces: [piece], deletedPieces: [{ pieceId: p.pieceId, version: 1 }] },
    { operation: "sync", protocol: 2, pieces: [], deletedPieces: [{ pieceId: p.pieceId, version: 1 }, { pieceId: p.pieceId, version: 1 }] },
  ]) {
    const r = await h.call("/pieces", user, body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_request");
    expect(r.body.error.fields[0].path).toMatch(/^deletedPieces\.\d+\.pieceId$/);
  }
  const b = new Device("b", user, h.transport(user));
  await b.syncPieces();
  expect(b.pieces.get(p.pieceId)).toMatchObject({ version: VERSION_STEP, title: p.title });
});
