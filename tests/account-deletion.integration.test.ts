// Issue 10, the sync side of an account deletion (functions/core/account.ts) on
// DynamoDB Local: nothing of the user is left, other users are untouched, a failure
// half-way is completed by a retry, and a device still signed in afterwards never
// uploads the deleted repertoire again while the same account can start over.
import { deleteAccountData } from "../functions/core/account";
import { Store } from "../functions/core/store";
import { Device, DeviceClock } from "./helpers/device";
import { FaultyClient, withFaults } from "./helpers/faults";
import { createHarness, Harness } from "./helpers/sync-harness";
import { canonicalItems, scanTable } from "./helpers/dynamo";

jest.setTimeout(120_000);

let h: Harness;
let faults: FaultyClient;
beforeAll(async () => {
  h = await createHarness("acctdel", { doc: (doc) => (faults = withFaults(doc)).doc, store: { sleep: async () => undefined, maxAttempts: 3 } });
});
afterAll(async () => h.done());
afterEach(() => faults.clear());

async function scan(): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  for (const table of [h.tables.piecesTable, h.tables.sessionsTable]) out.push(...(await scanTable(h.tables.doc, table)).map((i) => ({ table, ...i })));
  return out;
}
const canonical = canonicalItems;

async function userWithData(user: string, pieces = 30) {
  // Devices' clocks near the server's: what was created after the deletion is told by its time.
  const clock = new DeviceClock(Date.now() - 60 * 60_000);
  const a = new Device("a", user, h.transport(user), clock);
  const b = new Device("b", user, h.transport(user), clock);
  for (let i = 0; i < pieces; i++) a.createPiece({ title: `${user} ${i}` });
  for (let i = 0; i < 5; i++) a.recordSession([...a.pieces.keys()][i]);
  await a.syncNow();
  // One tombstone (protocol 2 delete), and a second device holding everything.
  const [first] = a.pieces.values();
  await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], deletedPieces: [{ pieceId: first.pieceId, version: first.version }] });
  await b.syncNow();
  return { a, b, clock };
}

test("deletion leaves no item of the user, and every other user's items byte for byte", async () => {
  await userWithData("other-user");
  const { a } = await userWithData("leaving-user");
  const before = await scan();
  const others = canonical(before.filter((i) => i.userId !== "leaving-user"));
  expect(before.filter((i) => i.userId === "leaving-user").length).toBeGreaterThan(30);
  const r = await deleteAccountData(h.store, "leaving-user");
  expect(r.pieces).toBe(30); // 29 pieces and the tombstone
  expect(r.sessions).toBe(5);
  const after = await scan();
  expect(after.filter((i) => i.userId === "leaving-user")).toEqual([]);
  // What is left beyond the others: one deletion record, keyed by a hash, holding only the time.
  const extra = canonical(after).filter((l) => !others.includes(l));
  expect(extra).toHaveLength(1);
  expect(JSON.parse(extra[0])).toEqual({ table: h.tables.piecesTable, userId: expect.stringMatching(/^#deleted#[0-9a-f]{64}$/), pieceId: "#deleted", deletedAt: r.deletedAt });
  expect(extra[0]).not.toContain("leaving-user");
  expect(a.pieces.size).toBe(30);
});

test("a failure half-way is completed by a retry, and a second run changes nothing", async () => {
  await userWithData("flaky-user", 60);
  let writes = 0;
  faults.decide = (name) => (name === "BatchWriteCommand" && ++writes > 1 ? "fail" : undefined);
  await expect(deleteAccountData(h.store, "flaky-user")).rejects.toThrow();
  faults.decide = undefined;
  expect((await scan()).filter((i) => i.userId === "flaky-user").length).toBeGreaterThan(0);
  const first = await deleteAccountData(h.store, "flaky-user");
  expect((await scan()).filter((i) => i.userId === "flaky-user")).toEqual([]);
  const again = await deleteAccountData(h.store, "flaky-user");
  expect(again).toEqual({ pieces: 0, sessions: 0, deletedAt: first.deletedAt });
});

test("a device still signed in never uploads the deleted repertoire; the same account starts over", async () => {
  const user = "restarting-user";
  const { b, clock } = await userWithData(user, 10);
  // The second device edits and practises offline, before and after the deletion.
  const held = [...b.pieces.values()];
  clock.ms = Date.now() - 10 * 60_000;
  b.edit(held[0].pieceId, { notes: "edited before the deletion" });
  b.recordSession(held[1].pieceId);
  await deleteAccountData(h.store, user);
  clock.ms = Date.now() + 5000;
  const newHere = b.createPiece({ title: "written after the deletion" });
  b.recordSession(newHere.pieceId);

  for (let i = 0; i < 2; i++) {
    b.coldStart();
    const r = await b.syncNow();
    expect(r.pieces.status).toBe(200);
    expect(r.sessions?.status).toBe(200);
  }
  const items = (await scan()).filter((i) => i.userId === user);
  const pieceIds = items.filter((i) => i.table === h.tables.piecesTable && i.pieceId !== "#sync").map((i) => i.pieceId);
  expect(pieceIds).toEqual([newHere.pieceId]);
  expect(items.filter((i) => i.table === h.tables.sessionsTable)).toHaveLength(1);
  // The device keeps its copy (the app cannot be told to delete), with the old pieces unacknowledged.
  expect(b.pieces.get(held[0].pieceId)).toMatchObject({ notes: "edited before the deletion", locallyModified: true });
  const logged = JSON.parse(h.logs.filter((l) => l.includes("POST /pieces")).pop()!);
  expect(logged.refusedReasons).toMatch(/account_deleted/);

  // A fresh install of the same account sees only what was created after the deletion.
  const fresh = new Device("fresh", user, h.transport(user), clock);
  await fresh.syncNow();
  expect([...fresh.pieces.keys()]).toEqual([newHere.pieceId]);
  const p = fresh.createPiece({ title: "a new start" });
  await fresh.syncNow();
  await b.syncNow();
  expect(b.content(p.pieceId)?.title).toBe("a new start");
});

test("a sync committing while the deletion runs cannot leave a piece of the old repertoire behind", async () => {
  const user = "racing-user";
  const { b } = await userWithData(user, 5);
  const store = new Store({ doc: h.tables.doc, piecesTable: h.tables.piecesTable, sessionsTable: h.tables.sessionsTable });
  for (const p of b.pieces.values()) b.edit(p.pieceId, { notes: "racing" });
  // The device's commit waits while the deletion (on a client without faults) runs.
  faults.add({ command: "TransactWriteCommand", kind: "delay", delayMs: 1500, times: 1 });
  await Promise.all([b.syncNow(), deleteAccountData(store, user)]);
  await b.syncNow();
  const left = (await scan()).filter((i) => i.userId === user && i.pieceId !== "#sync");
  // Either the edits landed before the deletion swept them, or they were refused after it.
  expect(left.filter((i) => i.table === h.tables.piecesTable)).toEqual([]);
});
