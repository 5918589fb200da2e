// Throttling, unprocessed batch keys and failing writes, injected around the real
// DynamoDB Local client: retried where DynamoDB says to retry, and a write that
// still fails is a 5xx with an error code, never an acknowledgement.
import { API_GATEWAY_TIMEOUT_SECONDS, DYNAMODB_REQUEST_TIMEOUT_MS, SYNC_FUNCTION_TIMEOUT_SECONDS, SYNC_RETRY_BUDGET_MS, VERSION_STEP } from "../lib/limits";
import { Device, DeviceClock } from "./helpers/device";
import { FaultyClient, withFaults } from "./helpers/faults";
import { createHarness, Harness } from "./helpers/sync-harness";

let h: Harness;
let faults: FaultyClient;
beforeAll(async () => {
  h = await createHarness("faults", {
    doc: (doc) => (faults = withFaults(doc)).doc,
    store: { sleep: async () => undefined, maxAttempts: 5 },
  });
});
afterAll(async () => h.done());
afterEach(() => faults.clear());
let n = 0;
const newUser = () => `fault-user-${++n}`;

test("throttled reads and transactions are retried and the sync succeeds", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  for (let i = 0; i < 5; i++) a.createPiece();
  faults.add({ command: "GetCommand", kind: "throttle", times: 2 });
  faults.add({ command: "TransactWriteCommand", kind: "txn-throttle", times: 2 });
  const r = await a.syncPieces();
  expect(r.status).toBe(200);
  expect(r.body.updatedPieces).toHaveLength(5);
  expect(faults.injected.throttle).toBe(2);
  expect(faults.injected["txn-throttle"]).toBe(2);
  // A cold start of a device holding one of the pieces reads the differing buckets
  // (queries) and the pieces it lacks (a batch read).
  faults.add({ command: "QueryCommand", kind: "throttle", times: 2 });
  faults.add({ command: "BatchGetCommand", kind: "throttle", times: 1 });
  const b = new Device("b", user, h.transport(user));
  const [first] = a.pieces.values();
  b.pieces.set(first.pieceId, { ...first });
  expect((await b.syncPieces()).status).toBe(200);
  expect(faults.injected.throttle).toBe(5);
  expect(b.pieces.size).toBe(5);
  expect([...b.pieces.values()].every((p) => p.version === VERSION_STEP)).toBe(true);
});

test("unprocessed keys of a batch read are read again, so no conflict goes unseen", async () => {
  const user = newUser();
  const clock = new DeviceClock();
  const a = new Device("a", user, h.transport(user), clock);
  const b = new Device("b", user, h.transport(user), clock);
  for (let i = 0; i < 6; i++) a.createPiece({ title: `t${i}` });
  await a.syncPieces();
  await b.syncPieces();
  for (const p of a.pieces.values()) a.edit(p.pieceId, { title: `${p.title} by a` });
  await a.syncPieces();
  // b edits the same pieces from version 1 while its batch read comes back half done.
  for (const p of b.pieces.values()) b.edit(p.pieceId, { notes: "by b" });
  faults.add({ command: "BatchGetCommand", kind: "unprocessed", times: 3 });
  const r = await b.syncPieces();
  expect(r.status).toBe(200);
  expect(faults.injected.unprocessed).toBe(3);
  await a.syncPieces();
  await b.syncPieces();
  for (const p of a.pieces.values()) {
    expect(p.title.endsWith("by a")).toBe(true);
    expect(p.notes).toBe("by b");
    expect(b.content(p.pieceId)).toEqual(a.content(p.pieceId));
  }
});

test("a write that keeps failing is a 503 with an error code and nothing is acknowledged", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  const p = a.createPiece({ title: "must not be lost" });
  faults.add({ command: "TransactWriteCommand", kind: "throttle", times: Infinity });
  const r = await a.syncPieces();
  expect(r.status).toBe(503);
  expect(r.body).toEqual({ error: { code: "write_failed", message: expect.any(String) } });
  expect(r.body.error.message).not.toMatch(/exception|throughput|dynamo/i);
  expect(a.pieces.get(p.pieceId)!.locallyModified).toBe(true);
  faults.clear();
  const ok = await a.syncPieces();
  expect(ok.body.updatedPieces.map((x: any) => x.pieceId)).toEqual([p.pieceId]);
});

test("a dropped connection to DynamoDB is retried like throttling, and a 503 if it persists (issue 9)", async () => {
  const user = newUser();
  const a = new Device("a", user, h.transport(user));
  a.createPiece({ title: "through a flaky network" });
  // What the SDK rethrows when the socket drops: a plain Error, no HTTP status.
  const hangUp = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
  let drops = 0;
  faults.decide = (name) => {
    if (drops < 3 && (name === "TransactWriteCommand" || name === "GetCommand")) {
      drops++;
      throw hangUp();
    }
    return undefined;
  };
  const r = await a.syncPieces();
  faults.decide = undefined;
  expect(r.status).toBe(200);
  expect(drops).toBe(3);
  expect(r.body.updatedPieces).toHaveLength(1);
  faults.decide = () => {
    throw hangUp();
  };
  const down = await h.call("/pieces", user, { operation: "sync", pieces: [] });
  faults.decide = undefined;
  expect(down.status).toBe(503);
  expect(down.body.error.code).toBe("read_failed");
});

test("an unexpected failure is a 500 with no internal detail", async () => {
  const user = newUser();
  faults.add({ command: "GetCommand", kind: "fail", times: Infinity });
  const r = await h.call("/pieces", user, { operation: "sync", pieces: [] });
  expect(r.status).toBe(503);
  expect(r.raw).not.toMatch(/injected|stack|at \w+ \(/);
  faults.clear();
  const crash = new Error("boom with secret detail");
  faults.decide = () => {
    throw crash;
  };
  const r2 = await h.call("/pieces", user, { operation: "sync", pieces: [] });
  faults.decide = undefined;
  expect(r2.status).toBe(500);
  expect(r2.body).toEqual({ error: { code: "internal", message: expect.any(String) } });
  expect(r2.raw).not.toContain("secret");
  expect(h.logs.join("\n")).not.toContain("secret detail");
});

// Issue 12: a sync that keeps failing answers 503 itself, before its function's
// timeout (and API Gateway's 29 s), however many attempts the store would allow.
test("retries stop within the request's budget, so a failing sync still answers 503 before the function times out", async () => {
  let clock = Date.parse("2026-01-01T00:00:00Z");
  let f!: FaultyClient;
  const slow = await createHarness("deadline", {
    doc: (doc) => (f = withFaults(doc)).doc,
    // Backoffs advance a simulated clock: the budget is checked without waiting for it.
    store: { now: () => clock, sleep: async (ms) => void (clock += ms), maxAttempts: 10_000 },
  });
  try {
    const start = clock;
    f.add({ command: "*", kind: "throttle", times: Infinity });
    const r = await slow.call("/pieces", "deadline-user", { operation: "sync", pieces: [] });
    expect(r.status).toBe(503);
    expect(f.injected.throttle).toBeLessThan(100);
    expect(clock - start).toBeLessThanOrEqual(SYNC_RETRY_BUDGET_MS);
    expect(SYNC_RETRY_BUDGET_MS + DYNAMODB_REQUEST_TIMEOUT_MS).toBeLessThan(SYNC_FUNCTION_TIMEOUT_SECONDS * 1000);
    expect(SYNC_FUNCTION_TIMEOUT_SECONDS).toBeLessThan(API_GATEWAY_TIMEOUT_SECONDS);
  } finally {
    await slow.done();
  }
});
