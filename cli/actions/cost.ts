// The month's cost of Project=Haumana by service (or by day), the forecast to the
// month's end against the budget, and the account's spend that carries no Project
// tag. Cost Explorer charges $0.01 a request, so a report makes at most
// MAX_CE_REQUESTS and says how many it made; it never follows a next page. Answers
// already paid for are never thrown away: when a later request fails, the report
// shows what it has and names what failed (`failures`), and exits with that
// failure's code.
import { GetCostAndUsageCommand, GetCostForecastCommand } from "@aws-sdk/client-cost-explorer";
import type { Expression, GetCostAndUsageCommandInput, GetCostAndUsageCommandOutput, GetCostForecastCommandInput, GetCostForecastCommandOutput } from "@aws-sdk/client-cost-explorer";
import { PROJECT_TAG } from "../../lib/tags";
import { send, Sender } from "../aws";
import { AwsRequestError, CliError, UsageError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand } from "../invocation";
import { bar, Colours, limitBar, money, table } from "../ui";

export const MAX_CE_REQUESTS = 3;
export const CE_REQUEST_PRICE_USD = 0.01;
const METRIC = "UnblendedCost";

export type CostBy = "service" | "day";

export interface CostReportOptions {
  /** YYYY-MM; the current UTC month when omitted. */
  month?: string;
  by?: CostBy;
  budgetLimitUsd: number;
}

export interface CostDeps {
  ce: Sender;
  now?: () => Date;
  spin?: <T>(label: string, work: () => Promise<T>) => Promise<T>;
}

export interface CostRow {
  label: string;
  amount: number;
}

export interface CostReport {
  month: string;
  /** Cost Explorer's window: start inclusive, end exclusive. */
  period: { start: string; end: string };
  by: CostBy;
  unit: string;
  project: { tag: string; total: number; rows: CostRow[]; estimated: boolean };
  forecast:
    | { available: true; remaining: number; monthEnd: number; budget: number; percentOfBudget: number; overBudget: boolean }
    | { available: false; reason: string; budget: number };
  /** null when its request failed (see failures). */
  account: { total: number; projectTagged: number; untagged: number; otherProjects: CostRow[] } | null;
  truncated: boolean;
  costExplorerRequests: number;
  /** Requests that failed after the first answer; the report shows the rest. */
  failures: { operation: string; code: string; message: string; hint?: string; exitCode: ExitCode }[];
  exitCode: ExitCode;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (d: Date, n: number) => new Date(d.getTime() + n * 86400_000);

export function reportWindow(month: string | undefined, now: Date) {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  let y = now.getUTCFullYear();
  let m = now.getUTCMonth();
  if (month !== undefined) {
    const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
    if (!match) throw new UsageError(`--month must be YYYY-MM, got "${month}"`);
    y = Number(match[1]);
    m = Number(match[2]) - 1;
  }
  const start = new Date(Date.UTC(y, m, 1));
  const next = new Date(Date.UTC(y, m + 1, 1));
  if (start > today) throw new UsageError(`--month ${month} is in the future`);
  const current = today < next;
  // The current month runs to the end of today (partial); the forecast covers the
  // whole days after it.
  const end = current ? addDays(today, 1) : next;
  return { label: `${y}-${String(m + 1).padStart(2, "0")}`, start, end, next, current };
}

export function projectFilter(): Expression {
  return { Tags: { Key: PROJECT_TAG.key, Values: [PROJECT_TAG.value], MatchOptions: ["EQUALS"] } };
}

const amount = (v: { Amount?: string } | undefined) => Number(v?.Amount ?? 0) || 0;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The exact requests a report sends, in order (the forecast only for the current month). */
export function reportRequests(window: ReturnType<typeof reportWindow>, by: CostBy) {
  const TimePeriod = { Start: day(window.start), End: day(window.end) };
  const projectCost: GetCostAndUsageCommandInput =
    by === "service"
      ? { TimePeriod, Granularity: "MONTHLY", Metrics: [METRIC], Filter: projectFilter(), GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }
      : { TimePeriod, Granularity: "DAILY", Metrics: [METRIC], Filter: projectFilter() };
  const byProjectTag: GetCostAndUsageCommandInput = {
    TimePeriod,
    Granularity: "MONTHLY",
    Metrics: [METRIC],
    GroupBy: [{ Type: "TAG", Key: PROJECT_TAG.key }],
  };
  const forecast: GetCostForecastCommandInput | undefined =
    window.current && window.end < window.next
      ? { TimePeriod: { Start: day(window.end), End: day(window.next) }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY", Filter: projectFilter() }
      : undefined;
  return { projectCost, byProjectTag, forecast };
}

export async function costReport(deps: CostDeps, opts: CostReportOptions): Promise<CostReport> {
  const spin = deps.spin ?? (<T>(_l: string, w: () => Promise<T>) => w());
  const now = (deps.now ?? (() => new Date()))();
  const by = opts.by ?? "service";
  const window = reportWindow(opts.month, now);
  const req = reportRequests(window, by);

  let made = 0;
  const ce = async <T>(command: object): Promise<T> => {
    if (made >= MAX_CE_REQUESTS) throw new Error(`cost report would exceed ${MAX_CE_REQUESTS} Cost Explorer requests`);
    made++;
    return send<T>(deps.ce, command);
  };

  const failures: CostReport["failures"] = [];
  const failed = (operation: string, err: unknown) => {
    if (!(err instanceof CliError)) throw err;
    // Without credentials or permission nothing else can work either: stop there.
    if (err.exitCode === EXIT.CREDENTIALS && err.code !== "access_denied") throw err;
    failures.push({ operation, code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode });
  };

  // Without the first answer there is nothing to show: its failure ends the report.
  const project = await spin("Cost Explorer: Haumana cost…", () => ce<GetCostAndUsageCommandOutput>(new GetCostAndUsageCommand(req.projectCost)));
  let tagged: GetCostAndUsageCommandOutput | undefined;
  try {
    tagged = await spin("Cost Explorer: account cost by Project tag…", () => ce<GetCostAndUsageCommandOutput>(new GetCostAndUsageCommand(req.byProjectTag)));
  } catch (err) {
    failed("GetCostAndUsage", err);
  }

  const truncated = !!project.NextPageToken || !!tagged?.NextPageToken;
  const results = project.ResultsByTime ?? [];
  let rows: CostRow[];
  if (by === "service") {
    const byService = new Map<string, number>();
    for (const r of results) for (const g of r.Groups ?? []) {
      const k = g.Keys?.[0] ?? "(unknown)";
      byService.set(k, (byService.get(k) ?? 0) + amount(g.Metrics?.[METRIC]));
    }
    rows = [...byService].map(([label, a]) => ({ label, amount: round2(a) })).sort((a, b) => b.amount - a.amount);
  } else {
    rows = results.map((r) => ({ label: r.TimePeriod?.Start ?? "?", amount: round2(amount(r.Total?.[METRIC])) }));
  }
  const projectTotal =
    by === "service"
      ? round2(results.reduce((s, r) => s + (r.Groups ?? []).reduce((t, g) => t + amount(g.Metrics?.[METRIC]), 0), 0))
      : round2(results.reduce((s, r) => s + amount(r.Total?.[METRIC]), 0));
  const unit =
    results.flatMap((r) => [r.Total?.[METRIC]?.Unit, ...(r.Groups ?? []).map((g) => g.Metrics?.[METRIC]?.Unit)]).find((u) => !!u) ?? "USD";

  const tagTotals = new Map<string, number>();
  for (const r of tagged?.ResultsByTime ?? []) for (const g of r.Groups ?? []) {
    // Keys look like "Project$Haumana"; "Project$" is spend without the tag.
    const value = (g.Keys?.[0] ?? "").replace(/^[^$]*\$/, "");
    tagTotals.set(value, (tagTotals.get(value) ?? 0) + amount(g.Metrics?.[METRIC]));
  }
  const accountTotal = round2([...tagTotals.values()].reduce((a, b) => a + b, 0));
  const otherProjects = [...tagTotals]
    .filter(([v]) => v !== "" && v !== PROJECT_TAG.value)
    .map(([label, a]) => ({ label, amount: round2(a) }))
    .sort((a, b) => b.amount - a.amount);

  let forecast: CostReport["forecast"];
  const budget = opts.budgetLimitUsd;
  if (!req.forecast && !window.current) {
    forecast = { available: false, reason: "a past month has no forecast", budget };
  } else if (!req.forecast) {
    // The last day of the month: nothing left to forecast.
    forecast = { available: true, remaining: 0, monthEnd: projectTotal, budget, percentOfBudget: pct(projectTotal, budget), overBudget: projectTotal > budget };
  } else {
    try {
      const f = await spin("Cost Explorer: forecast…", () => ce<GetCostForecastCommandOutput>(new GetCostForecastCommand(req.forecast!)));
      const remaining = round2(amount(f.Total));
      const monthEnd = round2(projectTotal + remaining);
      forecast = { available: true, remaining, monthEnd, budget, percentOfBudget: pct(monthEnd, budget), overBudget: monthEnd > budget };
    } catch (err) {
      if (err instanceof AwsRequestError && err.awsName === "DataUnavailableException") {
        forecast = { available: false, reason: "Cost Explorer has too little cost history to forecast yet", budget };
      } else {
        failed("GetCostForecast", err);
        forecast = { available: false, reason: "GetCostForecast failed (see below)", budget };
      }
    }
  }

  return {
    month: window.label,
    period: { start: day(window.start), end: day(window.end) },
    by,
    unit,
    project: { tag: `${PROJECT_TAG.key}=${PROJECT_TAG.value}`, total: projectTotal, rows, estimated: results.some((r) => r.Estimated) },
    forecast,
    account: tagged
      ? {
          total: accountTotal,
          projectTagged: round2(tagTotals.get(PROJECT_TAG.value) ?? 0),
          untagged: round2(tagTotals.get("") ?? 0),
          otherProjects,
        }
      : null,
    truncated,
    costExplorerRequests: made,
    failures,
    exitCode: failures[0]?.exitCode ?? EXIT.OK,
  };
}

function pct(n: number, of: number) {
  return of > 0 ? Math.round((n / of) * 1000) / 10 : 0;
}

export function renderCostReport(r: CostReport, c: Colours): string {
  const $ = (n: number) => money(n, r.unit);
  const lines: string[] = [];
  lines.push(c.bold(`Cost of ${r.project.tag}, ${r.month}`) + c.dim(`  (${r.period.start} to ${r.period.end}, end exclusive${r.project.estimated ? ", estimated" : ""})`));
  if (r.project.rows.length === 0) {
    lines.push(c.dim("  no cost recorded with this tag"));
  } else {
    const max = Math.max(...r.project.rows.map((x) => x.amount));
    lines.push(table(r.project.rows.map((x) => [`  ${x.label}`, $(x.amount).padStart(9), c.cyan(bar(x.amount, max))])));
  }
  lines.push(`  ${c.bold("Total")} ${$(r.project.total)}`);
  lines.push("");
  const f = r.forecast;
  if (f.available) {
    const status = f.overBudget ? c.red("over budget") : c.green("within budget");
    lines.push(`Forecast to month end: ${$(f.monthEnd)} of the ${$(f.budget)} budget (${f.percentOfBudget} %), ${status}`);
    const chart = limitBar(f.monthEnd, f.budget, 40, c.red);
    lines.push(`  ${c.cyan(chart.line)}`);
    lines.push(`  ${" ".repeat(chart.markerColumn)}${c.dim(`└ budget ${$(f.budget)}`)}`);
  } else {
    lines.push(`Forecast: not available (${f.reason}); budget ${$(f.budget)}`);
  }
  lines.push("");
  if (r.account) {
    lines.push(`Account spend in the period: ${$(r.account.total)}`);
    const acct: string[][] = [
      [`  tagged ${r.project.tag}`, $(r.account.projectTagged)],
      [`  without a ${PROJECT_TAG.key} tag`, $(r.account.untagged)],
      ...r.account.otherProjects.map((p) => [`  ${PROJECT_TAG.key}=${p.label}`, $(p.amount)]),
    ];
    lines.push(table(acct));
    if (r.account.untagged > 0 && r.account.projectTagged === 0 && r.project.total === 0) {
      lines.push(c.yellow(`  All spend shows as untagged: is ${PROJECT_TAG.key} an active cost-allocation tag? Check: ${cliCommand("tags", "check")}`));
    }
  } else {
    lines.push("Account spend in the period: not available (GetCostAndUsage by tag failed, see below)");
  }
  if (r.truncated) lines.push(c.yellow(`Results were truncated: the report stops at ${MAX_CE_REQUESTS} Cost Explorer requests.`));
  return lines.join("\n");
}
