// cli/actions/logs.ts on its own: --since, the request-id pattern, merging and
// limiting, the terminal rendering, and --follow's polling (each line once, late
// lines within the look-back still printed), with a fake CloudWatch Logs client.
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { eventJson, followLogs, FOLLOW_LOOKBACK_MS, LogEvent, parseSince, readLogs, renderEvent, requestIdPattern } from "../cli/actions/logs";
import { UsageError } from "../cli/errors";
import { colours } from "../cli/ui";

const NOW = Date.parse("2026-12-01T12:00:00Z");
const plain = colours(false);

interface Stored {
  group: string;
  timestamp: number;
  message: string;
  eventId: string;
}

/** CloudWatch Logs' FilterLogEvents over `stored`, paged 2 at a time; missing groups throw ResourceNotFoundException. */
function fakeLogs(stored: Stored[], groups: string[]) {
  const requests: any[] = [];
  return {
    requests,
    send: async (cmd: any) => {
      if (!(cmd instanceof FilterLogEventsCommand)) throw new Error("unexpected command");
      const i = cmd.input;
      requests.push(i);
      if (!groups.includes(i.logGroupName!)) throw Object.assign(new Error("The specified log group does not exist."), { name: "ResourceNotFoundException" });
      const term = i.filterPattern ? JSON.parse(i.filterPattern) : undefined;
      const all = stored
        .filter((e) => e.group === i.logGroupName && e.timestamp >= (i.startTime ?? 0) && (!term || e.message.includes(term)))
        .sort((a, b) => a.timestamp - b.timestamp);
      const from = Number(i.nextToken ?? 0);
      const page = all.slice(from, from + 2);
      return {
        events: page.map((e) => ({ timestamp: e.timestamp, message: e.message, eventId: e.eventId, logStreamName: "s" })),
        nextToken: from + 2 < all.length ? String(from + 2) : undefined,
      };
    },
  };
}

test("--since: durations and ISO dates; anything else is a usage error", () => {
  expect(parseSince("1h", NOW)).toBe(NOW - 3_600_000);
  expect(parseSince("30m", NOW)).toBe(NOW - 1_800_000);
  expect(parseSince("2d", NOW)).toBe(NOW - 2 * 86_400_000);
  expect(parseSince("90s", NOW)).toBe(NOW - 90_000);
  expect(parseSince("2026-11-30T08:00:00Z", NOW)).toBe(Date.parse("2026-11-30T08:00:00Z"));
  for (const bad of ["yesterday", "1y", "", "-1h"]) expect(() => parseSince(bad, NOW)).toThrow(UsageError);
});

test("--request-id becomes a quoted term; a value that could change the pattern is refused", () => {
  expect(requestIdPattern("6f1c2d3e-0000-4a5b-9c8d-1234567890ab")).toBe('"6f1c2d3e-0000-4a5b-9c8d-1234567890ab"');
  expect(() => requestIdPattern('x" ?ERROR')).toThrow(UsageError);
});

test("lines of every group are merged in time order across pages, and the newest `limit` kept", async () => {
  const stored: Stored[] = [];
  for (let i = 0; i < 5; i++) stored.push({ group: "a", timestamp: NOW - 10_000 + i * 2, message: `a${i}`, eventId: `a${i}` });
  for (let i = 0; i < 3; i++) stored.push({ group: "b", timestamp: NOW - 10_000 + i * 2 + 1, message: `b${i}`, eventId: `b${i}` });
  const logs = fakeLogs(stored, ["a", "b"]);
  const all = await readLogs({ logs }, { groups: { "sync-pieces": "a", access: "b", authorizer: "missing" }, startTime: NOW - 60_000, limit: 100 });
  expect(all.events.map((e) => e.message)).toEqual(["a0", "b0", "a1", "b1", "a2", "b2", "a3", "a4"]);
  expect(all.missing).toEqual(["authorizer"]);
  expect(all.truncated).toBe(false);
  expect(logs.requests.filter((r) => r.logGroupName === "a")).toHaveLength(3); // 5 lines, 2 a page
  const newest = await readLogs({ logs }, { groups: { "sync-pieces": "a", access: "b" }, startTime: NOW - 60_000, limit: 3 });
  expect(newest.events.map((e) => e.message)).toEqual(["b2", "a3", "a4"]);
  expect(newest.truncated).toBe(true);
});

test("every group missing is an error that says to deploy", async () => {
  await expect(readLogs({ logs: fakeLogs([], []) }, { groups: { "sync-pieces": "a" }, startTime: 0, limit: 10 })).rejects.toMatchObject({
    code: "no_log_group",
    exitCode: 1,
  });
});

test("--follow prints each line once, including one delivered late within the look-back, and stops when aborted", async () => {
  const stored: Stored[] = [{ group: "a", timestamp: NOW - 5_000, message: "first", eventId: "1" }];
  const logs = fakeLogs(stored, ["a"]);
  const printed: string[][] = [];
  const stop = new AbortController();
  let polls = 0;
  const sleep = async () => {
    polls++;
    if (polls === 1) stored.push({ group: "a", timestamp: NOW + 1_000, message: "second", eventId: "2" });
    // Delivered after "second" but stamped before it, within the look-back.
    if (polls === 2) stored.push({ group: "a", timestamp: NOW + 1_000 - FOLLOW_LOOKBACK_MS / 2, message: "late", eventId: "3" });
    if (polls === 4) stop.abort();
  };
  await followLogs({ logs, now: () => NOW }, { groups: { "sync-pieces": "a" }, startTime: NOW - 60_000, limit: 10 }, { intervalMs: 1, signal: stop.signal, sleep }, (events) =>
    printed.push(events.map((e) => e.message)),
  );
  expect(printed).toEqual([["first"], ["second"], ["late"]]);
  expect(polls).toBe(4);
});

test("a JSON line reads as level, message and fields; other lines as they are; --json keeps the line and its parse", () => {
  const e = (message: string): LogEvent => ({ time: "2026-12-01T12:00:00.000Z", timestamp: NOW, source: "sync-pieces", logStream: "s", message, eventId: "1" });
  const json = JSON.stringify({ level: "error", msg: "request", time: "t", route: "POST /pieces", status: 503, reason: undefined, cause: "-" });
  expect(renderEvent(e(json), plain)).toBe('2026-12-01T12:00:00.000Z sync-pieces   error request route="POST /pieces" status=503');
  expect(renderEvent(e("REPORT RequestId: 1\tDuration: 3 ms\n"), plain)).toBe("2026-12-01T12:00:00.000Z sync-pieces   REPORT RequestId: 1 Duration: 3 ms");
  expect(JSON.parse(eventJson(e(json)))).toEqual({ time: "2026-12-01T12:00:00.000Z", source: "sync-pieces", logStream: "s", message: json, json: JSON.parse(json) });
  expect(JSON.parse(eventJson(e("START x"))).json).toBeNull();
});
