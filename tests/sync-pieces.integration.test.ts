// POST /pieces through the real route on DynamoDB Local, driven by simulated
// devices that apply responses exactly as the shipped app does.
import { VERSION_STEP } from "../lib/limits";
import { Device, DeviceClock } from "./helpers/device";
import { createHarness, Harness } from "./helpers/sync-harness";

let h: Harness;
beforeAll(async () => (h = await createHarness("pieces")));
afterAll(async () => h.done());

let n = 0;
const newUser = () => `1098765432109876${String(++n).padStart(5, "0")}`;

function devices(userId: string, count: number, clock = new DeviceClock()) {
  return Array.from({ length: count }, (_, i) => new Device(`d${i}`, userId, h.transport(userId), clock));
}

test("a piece uploaded by one device is downloaded whole by another", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece({ title: "Aloha ʻOe", englishTranslation: "Farewell to thee", notes: "verse 2" });
  const r = await a.syncPieces();
  expect(r.status).toBe(200);
  expect(r.body.uploadedPieces).toEqual([p.pieceId]);
  // The server issues its own versions (multiples of VERSION_STEP), above any the device holds.
  expect(r.body.updatedPieces[0]).toMatchObject({ pieceId: p.pieceId, version: VERSION_STEP, title: "Aloha ʻOe" });
  expect(a.pieces.get(p.pieceId)!.locallyModified).toBe(false);

  await b.syncPieces();
  expect(b.content(p.pieceId)).toEqual(a.content(p.pieceId));
  expect(b.pieces.get(p.pieceId)!.version).toBe(VERSION_STEP);
  expect(b.pieces.get(p.pieceId)!.locallyModified).toBe(false);
  // Dates carry exactly three fraction digits, so the app reads them (contract, "Dates").
  expect(r.body.syncedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  expect(r.body.updatedPieces[0].modifiedAt).toBe(new Date(Date.parse(p.modifiedAt)).toISOString());
  expect(b.pieces.get(p.pieceId)!.createdAt).toBe(new Date(Date.parse(p.createdAt)).toISOString());
});

test("a v1 answer has exactly the contract's keys and types", async () => {
  const user = newUser();
  const [a] = devices(user, 1);
  a.createPiece();
  const r = await a.syncPieces();
  expect(Object.keys(r.body).sort()).toEqual(["serverPieces", "syncedAt", "updatedPieces", "uploadedPieces"]);
  expect(r.body.syncedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  const piece = r.body.updatedPieces[0];
  expect(piece.userId).toBe(user);
  expect(typeof piece.version).toBe("number");
  expect(piece.locallyModified).toBe(false);
  for (const k of ["seq", "changeKey", "bucketKey", "fieldHistory", "fieldModifiedAt", "changedAt", "deleted"]) expect(piece).not.toHaveProperty(k);
});

test("the userId in the body never decides whose data is written or read", async () => {
  const alice = newUser();
  const mallory = newUser();
  const [a] = devices(alice, 1);
  const p = a.createPiece({ title: "Alice's oli" });
  await a.syncPieces();

  // Mallory's verified token, but a body claiming Alice and reusing her piece id.
  const forged = { ...a.pieces.get(p.pieceId)!, userId: alice, title: "defaced", version: 1, locallyModified: true };
  const r = await h.call("/pieces", mallory, { operation: "sync", pieces: [forged] });
  expect(r.status).toBe(200);
  expect(r.body.serverPieces).toEqual([]);
  expect(r.body.updatedPieces[0].userId).toBe(mallory);

  const [a2] = devices(alice, 1);
  await a2.syncPieces();
  expect(a2.content(p.pieceId)!.title).toBe("Alice's oli");
  expect([...a2.pieces.values()].every((x) => x.userId === alice)).toBe(true);
  // And Mallory sees only her own copy.
  const m = await h.call("/pieces", mallory, { operation: "sync", pieces: [] });
  expect(m.body.serverPieces.map((x: any) => x.title)).toEqual(["defaced"]);
});

test("same field edited on two devices: the later edit wins on both, nothing else lost", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece({ title: "Kaulana Nā Pua" });
  await a.syncPieces();
  await b.syncPieces();
  a.edit(p.pieceId, { title: "Kaulana Na Pua (A)" });
  b.edit(p.pieceId, { title: "Kaulana Na Pua (B)" }); // later clock tick
  await a.syncPieces();
  const rb = await b.syncPieces();
  // B's edit is the later one: accepted as is.
  expect(rb.body.updatedPieces.map((x: any) => x.pieceId)).toEqual([p.pieceId]);
  await a.syncPieces();
  await b.syncPieces();
  expect(a.content(p.pieceId)).toEqual(b.content(p.pieceId));
  expect(a.content(p.pieceId)!.title).toBe("Kaulana Na Pua (B)");
  expect(a.pieces.get(p.pieceId)!.version).toBe(b.pieces.get(p.pieceId)!.version);
});

test("same field: an earlier edit that arrives second loses and the device takes the winner", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece({ title: "Original" });
  await a.syncPieces();
  await b.syncPieces();
  a.edit(p.pieceId, { title: "Earlier edit" });
  b.edit(p.pieceId, { title: "Later edit" });
  await b.syncPieces();
  const ra = await a.syncPieces();
  expect(ra.body.uploadedPieces).not.toContain(p.pieceId);
  expect(ra.body.updatedPieces.map((x: any) => x.pieceId)).not.toContain(p.pieceId);
  const won = ra.body.serverPieces.find((x: any) => x.pieceId === p.pieceId);
  expect(won.title).toBe("Later edit");
  expect(won.version).toBeGreaterThan(1);
  await a.syncPieces();
  await b.syncPieces();
  expect(a.content(p.pieceId)).toEqual(b.content(p.pieceId));
  expect(a.pieces.get(p.pieceId)!.locallyModified).toBe(false);
});

test("different fields edited on two devices: both edits are kept", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece({ title: "Hawaiʻi Aloha", notes: "old notes" });
  await a.syncPieces();
  await b.syncPieces();
  a.edit(p.pieceId, { title: "Hawaiʻi Aloha (hula)" });
  b.edit(p.pieceId, { notes: "new notes", isFavorite: true });
  await a.syncPieces();
  const rb = await b.syncPieces();
  const merged = rb.body.serverPieces.find((x: any) => x.pieceId === p.pieceId);
  expect(merged).toMatchObject({ title: "Hawaiʻi Aloha (hula)", notes: "new notes", isFavorite: true });
  for (let i = 0; i < 2; i++) {
    await a.syncPieces();
    await b.syncPieces();
  }
  const want = { title: "Hawaiʻi Aloha (hula)", notes: "new notes", isFavorite: true };
  expect(a.content(p.pieceId)).toMatchObject(want);
  expect(b.content(p.pieceId)).toMatchObject(want);
  expect(a.pieces.get(p.pieceId)!.version).toBe(b.pieces.get(p.pieceId)!.version);
  expect([a, b].every((d) => !d.pieces.get(p.pieceId)!.locallyModified)).toBe(true);
});

test("a lost response followed by the retried push changes nothing the second time", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece();
  await a.syncPieces();
  a.edit(p.pieceId, { lyrics: "new lyrics" });
  const lost = await a.syncPieces({ loseResponse: true });
  expect(lost.body.updatedPieces[0].version).toBe(2 * VERSION_STEP);
  const retry = await a.syncPieces();
  expect(retry.status).toBe(200);
  expect(retry.body.updatedPieces).toEqual([expect.objectContaining({ pieceId: p.pieceId, version: 2 * VERSION_STEP })]);
  expect(a.pieces.get(p.pieceId)).toMatchObject({ version: 2 * VERSION_STEP, locallyModified: false, lyrics: "new lyrics" });
  // A third device sees one piece at the second version, not a duplicate or a third version.
  await b.syncPieces();
  expect(b.pieces.size).toBe(1);
  expect(b.pieces.get(p.pieceId)!.version).toBe(2 * VERSION_STEP);
  // A retried first upload of a new piece: still one piece.
  const q = a.createPiece();
  await a.syncPieces({ loseResponse: true });
  await a.syncPieces();
  expect(a.pieces.get(q.pieceId)).toMatchObject({ version: VERSION_STEP, locallyModified: false });
  await b.syncPieces();
  expect(b.pieces.size).toBe(2);
});

test("an offline device pushes 200 edits at once; all are accepted and reach another device", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  for (let i = 0; i < 200; i++) a.createPiece({ title: `Piece ${i}`, lyrics: "x".repeat(2000) });
  await a.syncPieces();
  await b.syncPieces();
  // Offline: 200 edits, then one sync.
  for (const p of a.pieces.values()) a.edit(p.pieceId, { notes: `offline note ${p.title}` });
  const r = await a.syncPieces();
  expect(r.status).toBe(200);
  expect(r.body.updatedPieces).toHaveLength(200);
  expect([...a.pieces.values()].every((p) => p.version === 2 * VERSION_STEP && !p.locallyModified)).toBe(true);
  await b.syncPieces();
  expect([...b.pieces.values()].filter((p) => p.notes?.startsWith("offline note"))).toHaveLength(200);
});

test("a full cycle over three devices converges to one state", async () => {
  const user = newUser();
  const [a, b, c] = devices(user, 3);
  const p1 = a.createPiece({ title: "one" });
  const p2 = b.createPiece({ title: "two" });
  const p3 = c.createPiece({ title: "three", category: "oli" });
  for (const d of [a, b, c]) await d.syncPieces();
  for (const d of [a, b, c]) await d.syncPieces();
  a.edit(p2.pieceId, { notes: "a's note" });
  b.edit(p3.pieceId, { title: "three (b)" });
  c.edit(p1.pieceId, { isFavorite: true });
  c.edit(p2.pieceId, { includeInPractice: false });
  for (let round = 0; round < 3; round++) for (const d of [a, b, c]) await d.syncPieces();
  for (const id of [p1.pieceId, p2.pieceId, p3.pieceId]) {
    expect(b.content(id)).toEqual(a.content(id));
    expect(c.content(id)).toEqual(a.content(id));
  }
  expect(a.content(p2.pieceId)).toMatchObject({ notes: "a's note", includeInPractice: false });
  expect(a.content(p3.pieceId)!.title).toBe("three (b)");
  expect(a.content(p1.pieceId)!.isFavorite).toBe(true);
  expect([a, b, c].every((d) => d.pieces.size === 3 && [...d.pieces.values()].every((p) => !p.locallyModified))).toBe(true);
});

test("offline to online: edits made while requests fail are pushed when the network returns", async () => {
  const user = newUser();
  let online = false;
  const real = h.transport(user);
  const flaky = async (route: any, body: any) => (online ? real(route, body) : { status: 503, body: {} });
  const a = new Device("phone", user, flaky);
  const [b] = devices(user, 1);
  const p = a.createPiece({ title: "written offline" });
  expect((await a.syncPieces()).status).toBe(503);
  a.edit(p.pieceId, { notes: "still offline" });
  expect((await a.syncPieces()).status).toBe(503);
  expect(a.pieces.get(p.pieceId)!.locallyModified).toBe(true);
  online = true;
  expect((await a.syncPieces()).status).toBe(200);
  await b.syncPieces();
  expect(b.content(p.pieceId)).toMatchObject({ title: "written offline", notes: "still offline" });
});

test("a device moving from the old backend uploads pieces it holds as synced", async () => {
  const user = newUser();
  const [old] = devices(user, 1);
  const p = old.createPiece({ title: "from the old server" });
  Object.assign(old.pieces.get(p.pieceId)!, { locallyModified: false, version: 4 });
  old.lastSyncedAt = "2025-05-01T00:00:00Z";
  const r = await old.syncPieces();
  // Stored at a version of this server's, above the old backend's 4, and acknowledged.
  expect(r.body.updatedPieces).toEqual([expect.objectContaining({ pieceId: p.pieceId, version: VERSION_STEP })]);
  expect(old.pieces.get(p.pieceId)).toMatchObject({ version: VERSION_STEP, locallyModified: false });
  const [fresh] = devices(user, 1);
  await fresh.syncPieces();
  expect(fresh.content(p.pieceId)!.title).toBe("from the old server");
});

test("one structured log line per request, with counts and no payload", async () => {
  const user = newUser();
  const [a] = devices(user, 1);
  a.createPiece({ title: "Secret title", lyrics: "distinctive lyric line" });
  const before = h.logs.length;
  await a.syncPieces();
  const lines = h.logs.slice(before);
  expect(lines).toHaveLength(1);
  const entry = JSON.parse(lines[0]);
  expect(entry).toMatchObject({ route: "POST /pieces", status: 200, outcome: "ok", pushed: 1, written: 1 });
  expect(typeof entry.durationMs).toBe("number");
  expect(lines[0]).not.toMatch(/Secret title|distinctive lyric|109876/);
  expect(Buffer.byteLength(lines[0])).toBeLessThan(1024);
});

test.each([
  ["the newer copy first", false],
  ["the older copy first", true],
])("two devices moving from the old backend at once with different copies (%s): the later edit wins on both, one piece", async (_label, olderFirst) => {
  const user = newUser();
  const [d1, d2] = devices(user, 2);
  const p = d1.createPiece({ title: "newer copy" });
  d2.pieces.set(p.pieceId, { ...p, title: "older copy", modifiedAt: "2025-06-01T00:00:00.000Z" });
  // The old backend's versions (never checked there) carry no order: only the edit times do.
  Object.assign(d1.pieces.get(p.pieceId)!, { locallyModified: false, version: 3 });
  Object.assign(d2.pieces.get(p.pieceId)!, { locallyModified: false, version: 7 });
  const [first, second] = olderFirst ? [d2, d1] : [d1, d2];
  // Both syncs are planned before either has written anything.
  const [r1, r2] = await Promise.all([first.syncPieces(), second.syncPieces()]);
  expect([r1.status, r2.status]).toEqual([200, 200]);
  for (let i = 0; i < 2; i++) for (const d of [d1, d2]) await d.syncPieces();
  for (const d of [d1, d2]) expect(d.pieces.get(p.pieceId)).toMatchObject({ title: "newer copy", locallyModified: false });
  expect(d1.pieces.get(p.pieceId)!.version).toBe(d2.pieces.get(p.pieceId)!.version);
  const [fresh] = devices(user, 1);
  await fresh.syncPieces();
  expect(fresh.pieces.size).toBe(1);
  expect(fresh.content(p.pieceId)!.title).toBe("newer copy");
});

test("a field changed and changed back since a device's base still counts as changed in the merge", async () => {
  const user = newUser();
  const [a, b] = devices(user, 2);
  const p = a.createPiece({ title: "ABA" });
  await a.syncPieces();
  await b.syncPieces();
  b.edit(p.pieceId, { notes: "b's note, written first" }); // offline, based on version 1
  a.edit(p.pieceId, { notes: "a's note" });
  await a.syncPieces();
  a.edit(p.pieceId, { notes: undefined }); // a clears it again: the latest word on notes
  await a.syncPieces();
  const rb = await b.syncPieces();
  const winner = rb.body.serverPieces.find((x: any) => x.pieceId === p.pieceId);
  expect(winner).toBeDefined();
  expect(winner.notes).toBeUndefined();
  await a.syncPieces();
  await b.syncPieces();
  expect(a.content(p.pieceId)).toEqual(b.content(p.pieceId));
  expect(b.content(p.pieceId)!.notes).toBeUndefined();
});

test("a field both devices changed goes to the later edit of that field, not of the whole piece", async () => {
  const user = newUser();
  const at = (iso: string) => new DeviceClock(Date.parse(iso));
  const fast = new Device("fast", user, h.transport(user), at("2025-06-18T14:00:00Z"));
  const normal = new Device("normal", user, h.transport(user), at("2025-06-18T12:00:00Z"));
  const slow = new Device("slow", user, h.transport(user), at("2025-06-18T11:00:00Z"));
  const p = fast.createPiece({ title: "t", notes: "original" });
  for (const d of [fast, normal, slow]) await d.syncPieces();
  fast.edit(p.pieceId, { notes: "fast's note" }); // 14:00, the latest edit of notes
  await fast.syncPieces();
  await slow.syncPieces();
  slow.edit(p.pieceId, { title: "slow's title" }); // 11:00: the piece's modifiedAt goes back
  await slow.syncPieces();
  normal.edit(p.pieceId, { notes: undefined }); // 12:00, from version 1: older than fast's note
  const r = await normal.syncPieces();
  expect(r.body.serverPieces.find((x: any) => x.pieceId === p.pieceId)).toMatchObject({ notes: "fast's note", title: "slow's title" });
  for (const d of [fast, normal, slow]) await d.syncPieces();
  for (const d of [fast, normal, slow]) expect(d.content(p.pieceId)).toMatchObject({ notes: "fast's note", title: "slow's title" });
});
