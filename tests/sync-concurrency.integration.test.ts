// Two devices of one user pushing at the same moment while a third keeps pulling
// with the v1 cursor: the cursor never skips a write (no client clocks, no
// timestamp race), and contention never loses or double-applies an edit.
import { Device, DeviceClock } from "./helpers/device";
import { createHarness, Harness } from "./helpers/sync-harness";

jest.setTimeout(120_000);
let h: Harness;
beforeAll(async () => (h = await createHarness("concurrency")));
afterAll(async () => h.done());

test("concurrent pushes from two devices are all seen by a device pulling all along", async () => {
  const user = "concurrent-user";
  const clock = new DeviceClock();
  const [a, b, watcher] = ["a", "b", "watcher"].map((n) => new Device(n, user, h.transport(user), clock));
  let pushing = true;
  const statuses: number[] = [];
  const pusher = async (d: Device) => {
    for (let round = 0; round < 15; round++) {
      for (let i = 0; i < 3; i++) d.createPiece({ title: `${d.name}-${round}-${i}` });
      const r = await d.syncPieces();
      statuses.push(r.status);
    }
  };
  const watch = async () => {
    let pulls = 0;
    while (pushing && pulls < 500) {
      const r = await watcher.syncPieces();
      expect(r.status).toBe(200);
      pulls++;
    }
    return pulls;
  };
  const watching = watch();
  await Promise.all([pusher(a), pusher(b)]);
  pushing = false;
  const pulls = await watching;
  // Whatever a and b still hold as unsynced is pushed now; then one last pull.
  await a.syncPieces();
  await b.syncPieces();
  await watcher.syncPieces();

  expect(pulls).toBeGreaterThan(3);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  const all = new Set([...a.pieces.keys(), ...b.pieces.keys()]);
  expect(all.size).toBe(90);
  const missing = [...all].filter((id) => !watcher.pieces.has(id));
  expect(missing).toEqual([]);
  for (const d of [a, b]) expect([...d.pieces.values()].filter((p) => p.locallyModified)).toEqual([]);
});

test("two devices pushing edits to the same pieces at once: one version per accepted edit, both converge", async () => {
  const user = "contended-user";
  const clock = new DeviceClock();
  const [a, b] = ["a", "b"].map((n) => new Device(n, user, h.transport(user), clock));
  for (let i = 0; i < 10; i++) a.createPiece({ title: `shared ${i}` });
  await a.syncPieces();
  await b.syncPieces();
  for (let round = 0; round < 5; round++) {
    for (const id of a.pieces.keys()) a.edit(id, { notes: `a${round}` });
    for (const id of b.pieces.keys()) b.edit(id, { author: `b${round}` });
    const [ra, rb] = await Promise.all([a.syncPieces(), b.syncPieces()]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
  }
  for (let i = 0; i < 3; i++) {
    await a.syncPieces();
    await b.syncPieces();
  }
  for (const id of a.pieces.keys()) {
    expect(b.content(id)).toEqual(a.content(id));
    // Different fields: both devices' last edits survive.
    expect(a.content(id)).toMatchObject({ notes: "a4", author: "b4" });
    expect(a.pieces.get(id)!.version).toBe(b.pieces.get(id)!.version);
  }
});

test("a write that commits after a pull, though it started before, is not skipped by that pull's cursor", async () => {
  const { withFaults } = await import("./helpers/faults");
  let faults: ReturnType<typeof withFaults>;
  const slow = await createHarness("slow-commit", { doc: (doc) => (faults = withFaults(doc)).doc });
  try {
    const user = "slow-commit-user";
    const clock = new DeviceClock();
    const [writer, watcher] = ["writer", "watcher"].map((n) => new Device(n, user, slow.transport(user), clock));
    writer.createPiece({ title: "first" });
    await writer.syncPieces();
    await watcher.syncPieces();
    // The writer's transaction is held on its way to DynamoDB: its change time is
    // taken before the watcher pulls, the commit lands after (no clock decides it).
    let release!: () => void;
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    faults!.add({ command: "TransactWriteCommand", kind: "hold", times: 1, until: new Promise<void>((r) => (release = r)), held });
    const late = writer.createPiece({ title: "committed late" });
    const pushing = writer.syncPieces();
    await isHeld;
    // The watcher's pull runs while the write is still on its way, a second later (its own change time then lies after the writer's).
    await new Promise((r) => setTimeout(r, 1100));
    expect((await watcher.syncPieces()).status).toBe(200);
    expect(watcher.pieces.has(late.pieceId)).toBe(false);
    release();
    expect((await pushing).status).toBe(200);
    await watcher.syncPieces();
    expect(watcher.pieces.get(late.pieceId)?.title).toBe("committed late");
  } finally {
    await slow.done();
  }
});

test("a push that keeps losing the race to another device waits longer each time and lands; one that never wins answers 503 contention at its deadline, nothing acknowledged", async () => {
  const { Store } = await import("../functions/core/store");
  // A clock that only the store's waits move: the deadline is reached without waiting for it.
  let offset = 0;
  const waits: number[] = [];
  const racing = await createHarness("lost-races", {
    store: {
      now: () => Date.now() + offset,
      sleep: async (ms) => {
        waits.push(ms);
        offset += ms;
      },
    },
  });
  const commit = Store.prototype.commit;
  let losses = 0;
  // Another writer "wins" each of the next `losses` commits of this user (nothing of this push is written).
  const spy = jest.spyOn(Store.prototype, "commit").mockImplementation(function (this: any, ...args: Parameters<typeof commit>) {
    if (losses > 0) {
      losses--;
      return Promise.resolve("conflict" as const);
    }
    return commit.apply(this, args);
  });
  try {
    const user = "racing-user";
    const d = new Device("d", user, racing.transport(user), new DeviceClock());
    const p = d.createPiece({ title: "kept trying" });
    losses = 12;
    const r = await d.syncPieces();
    expect(r.status).toBe(200);
    expect(losses).toBe(0);
    expect(d.pieces.get(p.pieceId)?.locallyModified).toBe(false);
    // Waits grow: the last ones are longer than the first.
    expect(waits.length).toBe(12);
    expect(Math.max(...waits.slice(8))).toBeGreaterThan(Math.max(...waits.slice(0, 2)));

    const q = d.createPiece({ title: "never wins" });
    losses = Number.MAX_SAFE_INTEGER;
    // The store's clock: real time (slow on a busy machine) plus the waits.
    const clock = () => Date.now() + offset;
    const before = clock();
    const lost = await d.syncPieces();
    const spent = clock() - before;
    expect(lost.status).toBe(503);
    expect(lost.body.error.code).toBe("contention");
    expect(d.pieces.get(q.pieceId)?.locallyModified).toBe(true);
    // It gave up at the request's retry budget, not before.
    const { SYNC_RETRY_BUDGET_MS } = await import("../lib/limits");
    expect(spent).toBeGreaterThan(SYNC_RETRY_BUDGET_MS - 2000);
    expect(spent).toBeLessThan(SYNC_RETRY_BUDGET_MS + 5000);

    losses = 0;
    expect((await d.syncPieces()).status).toBe(200);
    expect(d.pieces.get(q.pieceId)?.locallyModified).toBe(false);
  } finally {
    spy.mockRestore();
    await racing.done();
  }
});
