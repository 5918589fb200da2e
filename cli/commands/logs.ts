// `haumana-ops logs`: declarations only; the work is in cli/actions/logs.ts.
import { Command, InvalidArgumentError } from "commander";
import { LOG_SOURCES, logGroups, type LogSource } from "../../lib/monitoring";
import { resourceNames } from "../../lib/names";
import { cloudWatchLogsClient } from "../aws";
import { Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples } from "./help";
import { noteEndpoint } from "./output";

function source(value: string): LogSource {
  if (!(LOG_SOURCES as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${LOG_SOURCES.join(", ")}`);
  return value as LogSource;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.1 || n > 3600) throw new InvalidArgumentError("must be a number of seconds, 0.1 to 3600");
  return n;
}

interface LogsOpts {
  stack: string;
  since: string;
  follow?: boolean;
  requestId?: string;
  limit: number;
  interval: number;
}

export function registerLogs(program: Command, ctx: Context) {
  withExamples(
    program
      .command("logs")
      .summary("the stack's log lines: the functions' and the API access log")
      .description(
        `The log lines of a stack's functions and of its API access log (one JSON line per request), from CloudWatch Logs, ` +
          `merged in time order, newest last. [source] is one of ${LOG_SOURCES.join(", ")} (default: all). ` +
          "--follow keeps polling for new lines until Ctrl-C. --json prints one JSON object per line (NDJSON) on stdout.",
      )
      .argument("[source]", `one of ${LOG_SOURCES.join(", ")} (default: all)`, source)
      .option(...STACK_OPTION)
      .option("--since <duration>", "how far back: 30m, 1h, 2d, or an ISO date", "1h")
      .option("--request-id <id>", "only lines of this request (API Gateway's request id, in the functions' and the access log's lines)")
      .option("--limit <n>", "print at most the newest n lines", positiveInteger, 500)
      .option("-f, --follow", "keep polling for new lines until interrupted")
      .option("--interval <seconds>", "with --follow: seconds between polls", seconds, 2),
    [
      "logs",
      "logs sync-pieces --since 30m",
      "logs --request-id 6f1c2d3e-0000-4a5b-9c8d-1234567890ab",
      "logs access --follow",
      (cli) => `${cli} logs --stack dev --json | jq .json.status`,
    ],
  ).action(async (only: LogSource | undefined, opts: LogsOpts) => {
    const settings = stackSettings(opts.stack);
    const { readLogs, followLogs, parseSince, renderEvent, eventJson } = await import("../actions/logs");
    const all = logGroups(settings.namePrefix, resourceNames(settings.namePrefix).logGroup);
    const groups = only ? { [only]: all[only] } : all;
    const query = { groups, startTime: parseSince(opts.since, Date.now()), requestId: opts.requestId, limit: opts.limit };
    noteEndpoint(ctx);
    const deps = { logs: cloudWatchLogsClient(settings.region) };
    const { ui } = ctx;
    const print = (events: Parameters<typeof renderEvent>[0][]) => {
      // --json (global): one JSON object per line (NDJSON).
      for (const e of events) ui.print(ctx.globals.json ? eventJson(e) : renderEvent(e, ui.out));
    };
    const notes = (r: { missing: LogSource[]; truncated: boolean; events: unknown[] }) => {
      for (const s of r.missing) ui.warn(`no log group for ${s} (${all[s]}): not deployed yet, or never written`);
      if (r.truncated) ui.warn(`more lines matched: showing the newest ${opts.limit} (use --since or --limit)`);
      if (!r.events.length && !opts.follow) ui.info(`No log lines since ${new Date(query.startTime).toISOString()}.`);
    };

    if (!opts.follow) {
      const r = await ui.spin("CloudWatch Logs: reading…", () => readLogs(deps, query));
      notes(r);
      print(r.events);
      return;
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      let first = true;
      await followLogs(deps, query, { intervalMs: opts.interval * 1000, signal: stop.signal }, (events, r) => {
        if (first) {
          notes(r);
          ui.info(ui.err.dim(`Following; Ctrl-C to stop.`));
          first = false;
        }
        print(events);
      });
    } finally {
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
    }
  });
}
