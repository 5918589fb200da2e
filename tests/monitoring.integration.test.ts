// The refused-pieces metric filter against the line the real POST /pieces route
// writes (on DynamoDB Local) when it refuses a piece and syncs the rest.
import { logMetricFilters } from "../lib/monitoring";
import { Device } from "./helpers/device";
import { matchesFilterPattern } from "./helpers/filter-pattern";
import { createHarness, Harness } from "./helpers/sync-harness";

let h: Harness;
beforeAll(async () => (h = await createHarness("monitoring")));
afterAll(async () => h?.done());

test("a refused piece: the line counts for RefusedPieces (with its count) and not for SyncUnavailable", async () => {
  const user = `monitoring-${process.pid}`;
  const d = new Device("d", user, h.transport(user));
  d.createPiece({ title: "good" });
  const body = d.piecesBody() as { pieces: Record<string, unknown>[] };
  const bad = { ...body.pieces[0], pieceId: "6B1F7D43-0000-4000-8000-000000000001", category: "hula" };
  h.logs.length = 0;
  const r = await h.call("/pieces", user, { ...body, pieces: [...body.pieces, bad, { ...bad, pieceId: "6B1F7D43-0000-4000-8000-000000000002" }] });
  expect(r.status).toBe(200);
  expect(h.logs).toHaveLength(1);
  const [line] = h.logs;

  const filters = logMetricFilters("haumana");
  const refused = filters.find((f) => f.metricName === "RefusedPieces")!;
  expect(matchesFilterPattern(refused.pattern, line)).toBe(true);
  // The metric's value is the line's count of refused pieces.
  expect(refused.value).toBe("$.refused");
  expect(JSON.parse(line).refused).toBe(2);
  for (const f of filters.filter((x) => x.metricName === "SyncUnavailable")) expect(matchesFilterPattern(f.pattern, line)).toBe(false);

  // A clean sync writes a line that counts for neither.
  h.logs.length = 0;
  expect((await d.syncPieces()).status).toBe(200);
  for (const f of filters) expect(matchesFilterPattern(f.pattern, h.logs[0])).toBe(false);
});
