// `haumana-ops status`: one screen on a stack. The account, each function's last
// 24 hours (invocations, errors, throttles) and its log group, every alarm the
// program creates and its state, the budget and its spend, and whether the
// cost-allocation tags are active. Exits 1 when an alarm is in ALARM (or missing,
// or a part could not be read).
import { DescribeBudgetCommand } from "@aws-sdk/client-budgets";
import type { Budget, DescribeBudgetCommandOutput } from "@aws-sdk/client-budgets";
import { DescribeAlarmsCommand, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { DescribeAlarmsCommandOutput, GetMetricDataCommandOutput, MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { DescribeLogGroupsCommand, DescribeLogStreamsCommand } from "@aws-sdk/client-cloudwatch-logs";
import type { DescribeLogGroupsCommandOutput, DescribeLogStreamsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import type { GetCallerIdentityCommandOutput } from "@aws-sdk/client-sts";
import { alarmNames } from "../../lib/monitoring";
import { FUNCTION_NAMES, resourceNames, type FunctionName } from "../../lib/names";
import type { StackSettings } from "../../lib/stack-config";
import { stackTags } from "../../lib/tags";
import { send, Sender } from "../aws";
import { CliError, CredentialsError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand } from "../invocation";
import { Colours, money, table } from "../ui";
import { BUDGET_NAME } from "./budget";
import { readTagStatuses, TagStatus } from "./tags";

export interface StatusDeps {
  sts: Sender;
  cloudwatch: Sender;
  logs: Sender;
  budgets: Sender;
  ce: Sender;
  now?: () => Date;
}

/** A part of the screen that could not be read: the message, and the other parts still show. */
export interface Unreadable {
  error: string;
}

export interface FunctionStatus {
  name: FunctionName;
  functionName: string;
  logGroup: string;
  logGroupExists: boolean;
  retentionDays: number | null;
  lastLogAt: string | null;
  /** Last 24 hours, from CloudWatch's AWS/Lambda metrics. */
  invocations: number;
  errors: number;
  throttles: number;
}

export interface AlarmStatus {
  name: string;
  state: "OK" | "ALARM" | "INSUFFICIENT_DATA" | "MISSING";
  since: string | null;
  reason: string | null;
  description: string | null;
}

export interface BudgetStatus {
  name: string;
  exists: boolean;
  limit: number | null;
  actual: number | null;
  forecasted: number | null;
  unit: string;
}

export interface StatusResult {
  stack: string;
  region: string;
  account: { id: string; arn: string };
  functions: FunctionStatus[] | Unreadable;
  alarms: AlarmStatus[] | Unreadable;
  budget: BudgetStatus | Unreadable;
  tags: TagStatus[] | Unreadable;
  /** Alarms in ALARM. */
  inAlarm: string[];
  /** Alarms the stack should have and CloudWatch does not (stack not deployed, or deleted by hand). */
  missingAlarms: string[];
  /** Parts that could not be read. */
  unreadable: string[];
  exitCode: ExitCode;
}

const DAY_MS = 86_400_000;

function commonPrefix(xs: string[]): string {
  return xs.reduce((p, x) => {
    let i = 0;
    while (i < p.length && p[i] === x[i]) i++;
    return p.slice(0, i);
  });
}

export const isUnreadable = (x: unknown): x is Unreadable => !!x && typeof x === "object" && !Array.isArray(x) && "error" in x;

/** Runs one part; an AWS error becomes that part's message, except missing or expired credentials, which end the command. */
async function part<T>(work: () => Promise<T>): Promise<T | Unreadable> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof CredentialsError && err.code !== "access_denied") throw err;
    if (err instanceof CliError) return { error: err.message };
    throw err;
  }
}

async function functionsPart(deps: StatusDeps, settings: StackSettings, now: Date): Promise<FunctionStatus[]> {
  const names = resourceNames(settings.namePrefix);
  const wantedGroups = new Set(FUNCTION_NAMES.map((fn) => names.logGroup(fn)));
  const groups: NonNullable<DescribeLogGroupsCommandOutput["logGroups"]> = [];
  let nextToken: string | undefined;
  do {
    const out = await send<DescribeLogGroupsCommandOutput>(
      deps.logs,
      new DescribeLogGroupsCommand({ logGroupNamePrefix: commonPrefix([...wantedGroups]), nextToken }),
    );
    groups.push(...(out.logGroups ?? []).filter((g) => wantedGroups.has(g.logGroupName ?? "")));
    nextToken = out.nextToken;
  } while (nextToken && groups.length < wantedGroups.size);
  const queries: MetricDataQuery[] = FUNCTION_NAMES.flatMap((fn, i) =>
    ["Invocations", "Errors", "Throttles"].map((metric) => ({
      Id: `${metric.toLowerCase()}${i}`,
      MetricStat: {
        Metric: { Namespace: "AWS/Lambda", MetricName: metric, Dimensions: [{ Name: "FunctionName", Value: names.fn(fn) }] },
        Period: DAY_MS / 1000,
        Stat: "Sum",
      },
    })),
  );
  const metrics = await send<GetMetricDataCommandOutput>(
    deps.cloudwatch,
    new GetMetricDataCommand({ StartTime: new Date(now.getTime() - DAY_MS), EndTime: now, MetricDataQueries: queries }),
  );
  const total = (id: string) => (metrics.MetricDataResults ?? []).find((r) => r.Id === id)?.Values?.reduce((a, b) => a + b, 0) ?? 0;
  return Promise.all(
    FUNCTION_NAMES.map(async (fn, i) => {
      const logGroup = names.logGroup(fn);
      const group = groups.find((g) => g.logGroupName === logGroup);
      let lastLogAt: string | null = null;
      if (group) {
        const streams = await send<DescribeLogStreamsCommandOutput>(
          deps.logs,
          new DescribeLogStreamsCommand({ logGroupName: logGroup, orderBy: "LastEventTime", descending: true, limit: 1 }),
        );
        const last = streams.logStreams?.[0]?.lastEventTimestamp;
        lastLogAt = last ? new Date(last).toISOString() : null;
      }
      return {
        name: fn,
        functionName: names.fn(fn),
        logGroup,
        logGroupExists: !!group,
        retentionDays: group?.retentionInDays ?? null,
        lastLogAt,
        invocations: total(`invocations${i}`),
        errors: total(`errors${i}`),
        throttles: total(`throttles${i}`),
      };
    }),
  );
}

async function alarmsPart(deps: StatusDeps, settings: StackSettings): Promise<AlarmStatus[]> {
  const wanted = alarmNames(settings.namePrefix);
  const found = new Map<string, NonNullable<DescribeAlarmsCommandOutput["MetricAlarms"]>[number]>();
  // DescribeAlarms takes at most 100 names a request.
  for (let i = 0; i < wanted.length; i += 100) {
    let NextToken: string | undefined;
    do {
      const out = await send<DescribeAlarmsCommandOutput>(
        deps.cloudwatch,
        new DescribeAlarmsCommand({ AlarmNames: wanted.slice(i, i + 100), AlarmTypes: ["MetricAlarm"], NextToken }),
      );
      for (const a of out.MetricAlarms ?? []) if (a.AlarmName) found.set(a.AlarmName, a);
      NextToken = out.NextToken;
    } while (NextToken);
  }
  return wanted.map((name) => {
    const a = found.get(name);
    if (!a) return { name, state: "MISSING" as const, since: null, reason: null, description: null };
    return {
      name,
      state: (a.StateValue ?? "INSUFFICIENT_DATA") as AlarmStatus["state"],
      since: a.StateUpdatedTimestamp ? new Date(a.StateUpdatedTimestamp).toISOString() : null,
      reason: a.StateReason ?? null,
      description: a.AlarmDescription ?? null,
    };
  });
}

async function budgetPart(deps: StatusDeps, accountId: string): Promise<BudgetStatus> {
  const amount = (v?: { Amount?: string }) => (v?.Amount !== undefined ? Number(v.Amount) : null);
  try {
    const out = await send<DescribeBudgetCommandOutput>(deps.budgets, new DescribeBudgetCommand({ AccountId: accountId, BudgetName: BUDGET_NAME }));
    const b: Budget = out.Budget ?? ({} as Budget);
    return {
      name: BUDGET_NAME,
      exists: true,
      limit: amount(b.BudgetLimit),
      actual: amount(b.CalculatedSpend?.ActualSpend),
      forecasted: amount(b.CalculatedSpend?.ForecastedSpend),
      unit: b.BudgetLimit?.Unit ?? "USD",
    };
  } catch (err) {
    if (err instanceof CliError && (err as { awsName?: string }).awsName === "NotFoundException") {
      return { name: BUDGET_NAME, exists: false, limit: null, actual: null, forecasted: null, unit: "USD" };
    }
    throw err;
  }
}

export async function stackStatus(deps: StatusDeps, settings: StackSettings): Promise<StatusResult> {
  const now = (deps.now ?? (() => new Date()))();
  const who = await send<GetCallerIdentityCommandOutput>(deps.sts, new GetCallerIdentityCommand({}));
  const account = { id: who.Account ?? "", arn: who.Arn ?? "" };
  const [functions, alarms, budget, tags] = await Promise.all([
    part(() => functionsPart(deps, settings, now)),
    part(() => alarmsPart(deps, settings)),
    part(() => budgetPart(deps, account.id)),
    part(() => readTagStatuses(deps.ce, stackTags(settings))),
  ]);
  const inAlarm = isUnreadable(alarms) ? [] : alarms.filter((a) => a.state === "ALARM").map((a) => a.name);
  const missingAlarms = isUnreadable(alarms) ? [] : alarms.filter((a) => a.state === "MISSING").map((a) => a.name);
  const unreadable = Object.entries({ functions, alarms, budget, tags })
    .filter(([, v]) => isUnreadable(v))
    .map(([k]) => k);
  return {
    stack: settings.stack,
    region: settings.region,
    account,
    functions,
    alarms,
    budget,
    tags,
    inAlarm,
    missingAlarms,
    unreadable,
    exitCode: inAlarm.length || missingAlarms.length || unreadable.length ? EXIT.FAILURE : EXIT.OK,
  };
}

// ---------------------------------------------------------------- rendering

function ago(iso: string | null, now: Date): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function renderStatus(r: StatusResult, c: Colours, now: Date = new Date()): string {
  const ok = (b: boolean) => (b ? c.green("✓") : c.red("✗"));
  const lines: string[] = [];
  const unreadable = (x: Unreadable) => `  ${c.red("✗")} could not read: ${x.error}`;
  lines.push(c.bold(`Haumana stack ${r.stack}`) + `  ${r.region}, account ${r.account.id}` + c.dim(`  (${r.account.arn})`));

  lines.push("", c.bold("Functions") + c.dim("  (last 24 h)"));
  if (isUnreadable(r.functions)) lines.push(unreadable(r.functions));
  else {
    lines.push(
      table(
        r.functions.map((f) => [
          `  ${ok(f.logGroupExists && f.errors === 0 && f.throttles === 0)}`,
          f.name,
          `${f.invocations} invocations`,
          f.errors ? c.red(`${f.errors} errors`) : "0 errors",
          f.throttles ? c.red(`${f.throttles} throttles`) : "0 throttles",
          f.logGroupExists
            ? `last log ${ago(f.lastLogAt, now)}, kept ${f.retentionDays === null ? "forever" : `${f.retentionDays} d`}`
            : c.red(`no log group ${f.logGroup}`),
        ]),
      ),
    );
  }

  lines.push("");
  if (isUnreadable(r.alarms)) lines.push(c.bold("Alarms"), unreadable(r.alarms));
  else {
    const alarms = r.alarms;
    const count = (s: AlarmStatus["state"]) => alarms.filter((a) => a.state === s).length;
    lines.push(
      c.bold("Alarms") +
        `  ${r.alarms.length}: ${count("OK")} OK, ${count("ALARM")} in ALARM, ${count("INSUFFICIENT_DATA")} without data` +
        (count("MISSING") ? c.red(`, ${count("MISSING")} missing`) : ""),
    );
    const firing = alarms.filter((a) => a.state === "ALARM");
    if (firing.length === 0) lines.push(`  ${c.green("✓")} none in ALARM`);
    else lines.push(table(firing.map((a) => [`  ${c.red("✗")}`, a.name, c.red("ALARM"), `since ${ago(a.since, now)}`, a.description ?? ""])));
    const missing = alarms.filter((a) => a.state === "MISSING");
    if (missing.length === alarms.length) lines.push(`  ${c.red("✗")} none of them exists in CloudWatch: deploy the stack (pulumi up)`);
    else if (missing.length) lines.push(`  ${c.red("✗")} missing from CloudWatch: ${missing.map((a) => a.name).join(", ")}`);
  }

  lines.push("", c.bold(`Budget ${BUDGET_NAME}`));
  if (isUnreadable(r.budget)) lines.push(unreadable(r.budget));
  else if (!r.budget.exists) lines.push(`  ${c.red("✗")} absent. Create it: ${cliCommand("budget", "create")}`);
  else {
    const b = r.budget;
    const over = b.actual !== null && b.limit !== null && b.actual > b.limit;
    lines.push(
      `  ${ok(!over)} ${b.actual === null ? "spend not reported yet" : money(b.actual)} of ${b.limit === null ? "?" : money(b.limit)} this month` +
        (b.forecasted !== null ? `, forecast ${money(b.forecasted)}` : ""),
    );
  }

  lines.push("", c.bold("Cost-allocation tags"));
  if (isUnreadable(r.tags)) lines.push(unreadable(r.tags));
  else {
    const text = { active: "active", inactive: "inactive", "not-seen": "not yet seen by billing" };
    lines.push(table(r.tags.map((t) => [`  ${ok(t.state === "active")}`, `${t.key}=${t.value ?? ""}`, text[t.state]])));
    if (r.tags.some((t) => t.state === "inactive")) lines.push(`  Activate the inactive ones: ${cliCommand("tags", "activate")}`);
  }
  return lines.join("\n");
}
