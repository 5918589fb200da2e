// lib/monitoring.ts: the metric filters match the lines the sync handlers really
// write, the names `haumana-ops status` looks for are the alarms the program
// creates, and the ops names of prod and dev never meet.
import { StoreUnavailableError } from "../functions/core/errors";
import { handleRoute } from "../functions/core/http";
import { setLogSink } from "../functions/core/log";
import { alarmNames, alarmSpecs, logMetricFilters, opsNames } from "../lib/monitoring";
import { FUNCTION_NAMES, resourceNames } from "../lib/names";
import { readStackSettings } from "../lib/stack-config";

const PROD = readStackSettings("prod").namePrefix;
import { matchesFilterPattern as matches } from "./helpers/filter-pattern";

async function lineOf(fail: boolean): Promise<string> {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    await handleRoute(
      "POST /pieces",
      { body: "{}", isBase64Encoded: false, requestContext: { requestId: "r1", authorizer: { userId: "u1" } } },
      async () => {
        if (fail) throw new StoreUnavailableError("write_failed", "not saved", "ProvisionedThroughputExceededException");
        return { body: { ok: true } };
      },
    );
  } finally {
    setLogSink(prev);
  }
  expect(lines).toHaveLength(1);
  return lines[0];
}

test("the 503 filter counts the line a sync handler writes when it answers 503, and not a 200", async () => {
  const filters = logMetricFilters("haumana").filter((f) => f.metricName === "SyncUnavailable");
  expect(filters.map((f) => f.fn).sort()).toEqual(["sync-pieces", "sync-sessions"]);
  for (const f of filters) {
    expect(matches(f.pattern, await lineOf(true))).toBe(true);
    expect(matches(f.pattern, await lineOf(false))).toBe(false);
  }
});

// The refused-pieces filter against a real POST /pieces line: monitoring.integration.test.ts.
test("the refused-pieces filter counts lines with refused > 0 and adds their count", () => {
  const [f] = logMetricFilters("haumana").filter((x) => x.metricName === "RefusedPieces");
  expect(f.fn).toBe("sync-pieces");
  expect(matches(f.pattern, JSON.stringify({ msg: "request", status: 200, refused: 2 }))).toBe(true);
  expect(matches(f.pattern, JSON.stringify({ msg: "request", status: 200, refused: 0 }))).toBe(false);
  expect(matches(f.pattern, JSON.stringify({ msg: "request", status: 200 }))).toBe(false);
  expect(f.value).toBe("$.refused");
});

test("status looks for exactly the alarms the program creates", () => {
  for (const prefix of [PROD, "haumana-dev"]) {
    const names = resourceNames(prefix);
    const specs = alarmSpecs({
      namePrefix: prefix,
      functionNames: Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, names.fn(fn)])) as any,
      apiName: names.api,
      stageName: "prod",
      tableNames: { pieces: names.piecesTable, sessions: names.sessionsTable },
      dynamoOperations: ["GetItem", "Query"],
    });
    expect(specs.map((s) => s.name)).toEqual(alarmNames(prefix));
    expect(new Set(alarmNames(prefix)).size).toBe(specs.length);
  }
});

test("prod's and dev's ops names differ, and alarms read Haumana-prod-... and Haumana-dev-...", () => {
  const prod = opsNames(PROD);
  const dev = opsNames("haumana-dev");
  for (const k of Object.keys(prod) as (keyof typeof prod)[]) expect(dev[k]).not.toBe(prod[k]);
  expect(alarmNames(PROD)[0]).toBe("Haumana-prod-auth-sync-Errors");
  expect(alarmNames("haumana-dev")[0]).toBe("Haumana-dev-auth-sync-Errors");
  // No alarm name is shared (status looks alarms up by exact name).
  expect(alarmNames(PROD).filter((n) => alarmNames("haumana-dev").includes(n))).toEqual([]);
});
