// `haumana-ops logs`: a stack's log lines (the functions' and the API's access
// log) from CloudWatch Logs, merged across log groups, newest last, and with
// --follow the lines that arrive after. The log groups are those the program
// creates (lib/names.ts, lib/monitoring.ts).
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { FilterLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import type { LogSource } from "../../lib/monitoring";
import { send, Sender } from "../aws";
import { AwsRequestError, CliError, UsageError } from "../errors";
import { EXIT } from "../exit-codes";
import type { Colours } from "../ui";

/** Lines read from one log group per run, at most (then the oldest are left out). */
export const MAX_EVENTS_PER_GROUP = 10_000;
/** How far back each --follow poll looks again: CloudWatch Logs can deliver a line a little after its timestamp. */
export const FOLLOW_LOOKBACK_MS = 60_000;

export interface LogEvent {
  /** ISO time of the line (the event's timestamp). */
  time: string;
  timestamp: number;
  source: LogSource;
  logStream: string;
  message: string;
  eventId: string;
}

export interface LogsQuery {
  /** Log group of each source to read. */
  groups: Partial<Record<LogSource, string>>;
  /** Epoch ms: the oldest line wanted. */
  startTime: number;
  /** Only lines containing this request id (API Gateway's, as the functions and the access log write it). */
  requestId?: string;
  /** Most lines printed (the newest ones). */
  limit: number;
}

export interface LogsResult {
  events: LogEvent[];
  /** Sources whose log group does not exist (not deployed, or never written). */
  missing: LogSource[];
  /** More lines matched than `limit` (or than a group's cap): the oldest were left out. */
  truncated: boolean;
}

export interface LogsDeps {
  logs: Sender;
  now?: () => number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "--since 1h" (s, m, h, d, w) or an ISO date → epoch ms. */
export function parseSince(text: string, now: number): number {
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(t);
  if (m) return now - Number(m[1]) * UNITS[m[2]];
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--since must be a duration like 30m, 1h, 2d, or an ISO date; got "${text}"`);
}

/** A CloudWatch Logs filter pattern for lines containing this exact text. */
export function requestIdPattern(requestId: string): string {
  if (!/^[A-Za-z0-9_=+/.:-]{1,128}$/.test(requestId)) throw new UsageError(`--request-id has characters a request id never has: "${requestId}"`);
  return `"${requestId}"`;
}

async function readGroup(
  deps: LogsDeps,
  source: LogSource,
  logGroupName: string,
  startTime: number,
  filterPattern: string | undefined,
): Promise<{ events: LogEvent[]; missing: boolean; capped: boolean }> {
  const events: LogEvent[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const out = await send<FilterLogEventsCommandOutput>(
        deps.logs,
        new FilterLogEventsCommand({ logGroupName, startTime, filterPattern, nextToken }),
      );
      for (const e of out.events ?? []) {
        const timestamp = e.timestamp ?? 0;
        events.push({
          time: new Date(timestamp).toISOString(),
          timestamp,
          source,
          logStream: e.logStreamName ?? "",
          message: (e.message ?? "").replace(/\n+$/, ""),
          eventId: e.eventId ?? `${e.logStreamName}/${timestamp}/${events.length}`,
        });
      }
      nextToken = out.nextToken;
    } while (nextToken && events.length < MAX_EVENTS_PER_GROUP);
  } catch (err) {
    if (err instanceof AwsRequestError && err.awsName === "ResourceNotFoundException") return { events: [], missing: true, capped: false };
    throw err;
  }
  return { events, missing: false, capped: !!nextToken };
}

const byTime = (a: LogEvent, b: LogEvent) => a.timestamp - b.timestamp || a.source.localeCompare(b.source) || a.eventId.localeCompare(b.eventId);

/** The matching lines of every group since `startTime`, merged, oldest first, the newest `limit` of them. */
export async function readLogs(deps: LogsDeps, q: LogsQuery): Promise<LogsResult> {
  const pattern = q.requestId ? requestIdPattern(q.requestId) : undefined;
  const sources = Object.keys(q.groups) as LogSource[];
  const results = await Promise.all(sources.map((s) => readGroup(deps, s, q.groups[s]!, q.startTime, pattern)));
  const missing = sources.filter((_, i) => results[i].missing);
  if (missing.length === sources.length) {
    throw new CliError(
      `No log group found for ${sources.join(", ")} (${sources.map((s) => q.groups[s]).join(", ")}).`,
      "no_log_group",
      EXIT.FAILURE,
      "Is the stack deployed (pulumi up) in this account and region? A function's log group exists from its deployment on.",
    );
  }
  const all = results.flatMap((r) => r.events).sort(byTime);
  const events = all.slice(Math.max(0, all.length - q.limit));
  return { events, missing, truncated: events.length < all.length || results.some((r) => r.capped) };
}

export interface FollowOptions {
  intervalMs: number;
  signal: AbortSignal;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/**
 * Prints what `readLogs` finds, then polls every `intervalMs` for lines not yet
 * printed, until `signal` aborts. Each poll looks FOLLOW_LOOKBACK_MS behind the
 * newest line seen (late deliveries) and skips event ids already printed.
 */
export async function followLogs(deps: LogsDeps, q: LogsQuery, opts: FollowOptions, print: (events: LogEvent[], first: LogsResult) => void): Promise<void> {
  const now = deps.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const first = await readLogs(deps, q);
  print(first.events, first);
  const seen = new Map<string, number>(first.events.map((e) => [e.eventId, e.timestamp]));
  let newest = Math.max(q.startTime, ...first.events.map((e) => e.timestamp), now() - FOLLOW_LOOKBACK_MS);
  while (!opts.signal.aborted) {
    await sleep(opts.intervalMs, opts.signal);
    if (opts.signal.aborted) break;
    const startTime = Math.max(q.startTime, newest - FOLLOW_LOOKBACK_MS);
    const r = await readLogs(deps, { ...q, startTime, limit: Number.MAX_SAFE_INTEGER });
    const fresh = r.events.filter((e) => !seen.has(e.eventId));
    for (const e of fresh) {
      seen.set(e.eventId, e.timestamp);
      newest = Math.max(newest, e.timestamp);
    }
    for (const [id, ts] of seen) if (ts < startTime) seen.delete(id);
    if (fresh.length) print(fresh, r);
  }
}

// ---------------------------------------------------------------- rendering

/** The line as JSON when it is a JSON object (the functions' and the access log's lines are). */
export function parsedMessage(message: string): Record<string, unknown> | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(message);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function value(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

const SOURCE_WIDTH = 13; // "sync-sessions"

/** One line for a terminal: time, source, then the line (a JSON line as its level, message and key=value fields). */
export function renderEvent(e: LogEvent, c: Colours): string {
  const head = `${c.dim(e.time)} ${c.cyan(e.source.padEnd(SOURCE_WIDTH))}`;
  const json = parsedMessage(e.message);
  if (!json) return `${head} ${e.message.replace(/\s+$/, "").replace(/\t/g, " ")}`;
  const { level, msg, time: _time, ...fields } = json;
  const parts: string[] = [];
  if (typeof level === "string") {
    const l = level.padEnd(5);
    parts.push(level === "error" ? c.red(l) : level === "warn" ? c.yellow(l) : c.dim(l));
  }
  if (typeof msg === "string") parts.push(c.bold(msg));
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null || v === "-" || v === "") continue;
    parts.push(`${c.dim(k + "=")}${value(v)}`);
  }
  return `${head} ${parts.join(" ")}`;
}

/** One NDJSON line per event for --json: the event, with the line parsed when it is JSON. */
export function eventJson(e: LogEvent): string {
  return JSON.stringify({ time: e.time, source: e.source, logStream: e.logStream, message: e.message, json: parsedMessage(e.message) ?? null });
}
