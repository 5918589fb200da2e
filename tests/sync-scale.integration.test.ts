// Repertoire size: an incremental pull reads what changed, not the repertoire;
// 10,000 pieces reach a new device whole, every response under Lambda's 6 MB;
// and a v1 device with more changes than fit one response gets them over
// successive syncs with nothing skipped.
import { randomBytes } from "node:crypto";
import { meterCapacity } from "./helpers/capacity";
import { Device, DeviceClock } from "./helpers/device";
import { createHarness, Harness } from "./helpers/sync-harness";

jest.setTimeout(300_000);

let h: Harness;
let small: Harness;
beforeAll(async () => {
  h = await createHarness("scale");
  // Room for one push (20 pieces of 1-5 KB) but far from all 120.
  small = await createHarness("budget", { responseBudgetBytes: 150 * 1024 });
});
afterAll(async () => {
  await h.done();
  await small.done();
});

/** Lyrics of 1-5 KB, like real mele. */
export function lyrics(i: number) {
  const words = ["aloha", "ka", "ua", "nā", "pali", "haʻaheo", "lani", "makani", "wai", "kai"];
  const size = 1024 + ((i * 7919) % 4096);
  let s = "";
  while (Buffer.byteLength(s) < size) s += words[(s.length + i) % words.length] + (s.length % 60 < 6 ? "\n" : " ");
  return s;
}

/** Pushes a device's changed pieces in requests of at most 1,000 (about 3 MB). */
async function pushChanged(harness: Harness, device: Device) {
  while ([...device.pieces.values()].some((p) => p.locallyModified)) {
    const changed = [...device.pieces.values()].filter((p) => p.locallyModified).slice(0, 1000);
    const body: any = { operation: "sync", pieces: changed };
    if (device.lastSyncedAt) body.lastSyncedAt = device.lastSyncedAt;
    const r = await harness.call("/pieces", device.userId, body);
    expect(r.status).toBe(200);
    device.applyPiecesResponse({ ...r.body, serverPieces: [] });
    device.lastSyncedAt = r.body.syncedAt;
  }
}

async function seed(device: Device, count: number) {
  for (let i = device.pieces.size; i < count; i++) {
    device.createPiece({ title: `Mele ${i} ${randomBytes(3).toString("hex")}`, lyrics: lyrics(i), notes: i % 3 ? undefined : "notes" });
  }
  await pushChanged(h, device);
}

/**
 * Read units of a no-change v1 sync. The request carries no pieces: a v1 device
 * sends its whole repertoire, which at 10,000 pieces of 1-5 KB is over Lambda's
 * 6 MB request limit (README, "Limits"); unchanged pieces cost the server no
 * reads, so what is measured is what the server reads to answer.
 */
async function noChangeReadUnits(lastSyncedAt: string, user: string) {
  const meter = meterCapacity(h.tables.client);
  let since = lastSyncedAt;
  for (let i = 0; i < 2; i++) {
    meter.reset();
    const r = await h.call("/pieces", user, { operation: "sync", lastSyncedAt: since, pieces: [] });
    expect(r.status).toBe(200);
    expect(r.body.serverPieces).toEqual([]);
    since = r.body.syncedAt;
  }
  return { read: meter.read, requests: meter.requests };
}

test("no-change and 10-change syncs read what changed, flat from 100 to 10,000 pieces; a new device pages in all 10,000", async () => {
  const user = "scale-user";
  const owner = new Device("owner", user, h.transport(user));
  await seed(owner, 100);
  const at100 = await noChangeReadUnits(owner.lastSyncedAt!, user);
  await seed(owner, 10_000);
  const at10k = await noChangeReadUnits(owner.lastSyncedAt!, user);
  expect(at100.read).toBeGreaterThan(0);
  expect(at10k.read).toBeLessThanOrEqual(at100.read);
  expect(at10k.requests).toBe(at100.requests);

  // A sync with 10 changes reads about those 10, not the repertoire.
  const meter = meterCapacity(h.tables.client);
  const other = new Device("other", user, h.transport(user));
  other.lastSyncedAt = owner.lastSyncedAt;
  const ids = [...owner.pieces.keys()].slice(0, 10);
  for (const id of ids) owner.edit(id, { isFavorite: true });
  await pushChanged(h, owner);
  meter.reset();
  const tenChanges = await other.syncPieces();
  expect(tenChanges.body.serverPieces.map((p: any) => p.pieceId).sort()).toEqual([...ids].sort());
  expect(meter.read).toBeLessThan(40); // ten items of at most 6 KB and the counter; the repertoire is ~30 MB

  // A new device pages explicitly; each response stays under 6 MB as Lambda returns it.
  const got = new Map<string, any>();
  let cursor: string | undefined;
  const sizes: number[] = [];
  for (let i = 0; i < 100; i++) {
    const r = await h.call("/pieces", user, { operation: "sync", protocol: 2, limit: 2000, pieces: [], ...(cursor ? { cursor } : {}) });
    expect(r.status).toBe(200);
    sizes.push(Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { "Content-Type": "application/json" }, body: r.raw })));
    for (const p of r.body.serverPieces) got.set(p.pieceId, p);
    cursor = r.body.cursor;
    if (!r.body.hasMore) break;
  }
  expect(got.size).toBe(10_000);
  expect(Math.max(...sizes)).toBeLessThan(6 * 1024 * 1024);
  expect(sizes.length).toBeGreaterThan(5);
  for (const [id, p] of owner.pieces) {
    expect(got.get(id)).toMatchObject({ lyrics: p.lyrics, title: p.title, version: p.version });
  }
});

test("v1: more changes than fit one response arrive over successive syncs, nothing skipped, even with writes in between", async () => {
  const user = "budget-user";
  const clock = new DeviceClock();
  const owner = new Device("owner", user, small.transport(user), clock);
  // Several pushes, so the changes fall in several server seconds.
  for (let batch = 0; batch < 6; batch++) {
    for (let i = 0; i < 20; i++) owner.createPiece({ title: `b${batch}-${i}`, lyrics: lyrics(batch * 20 + i) });
    await pushChanged(small, owner);
  }
  const fresh = new Device("fresh", user, small.transport(user), clock);
  let syncs = 0;
  for (; syncs < 60; syncs++) {
    const { pieces: r } = await fresh.syncNow();
    expect(r.status).toBe(200);
    // Someone keeps editing while the new device catches up.
    if (syncs % 3 === 1) {
      const id = [...owner.pieces.keys()][syncs];
      owner.edit(id, { notes: `edit ${syncs}` });
      await pushChanged(small, owner);
    }
    if (r.body.serverPieces.length === 0 && fresh.pieces.size === owner.pieces.size && syncs > 3) break;
  }
  await fresh.syncPieces();
  expect(syncs).toBeGreaterThan(3);
  expect(fresh.pieces.size).toBe(120);
  for (const [id] of owner.pieces) expect(fresh.content(id)).toEqual(owner.content(id));
});
