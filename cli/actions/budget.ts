// The Haumana budget: its desired shape (from the stack config and flags), the
// requests that take AWS from what is there to that shape, and the ✓/✗ comparison
// `budget show` prints. Only the budget named BUDGET_NAME is ever read or written.
// On it, haumana-ops manages the three alert slots in ALERTS (keyed by type and
// threshold) and their EMAIL subscribers; any other notification or subscriber
// (an SNS topic, a 50 % alert added by hand) is left alone.
import {
  CreateBudgetCommand,
  CreateNotificationCommand,
  CreateSubscriberCommand,
  DeleteSubscriberCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  UpdateBudgetCommand,
  UpdateNotificationCommand,
} from "@aws-sdk/client-budgets";
import type {
  Budget,
  CreateBudgetCommandInput,
  CreateNotificationCommandInput,
  CreateSubscriberCommandInput,
  DeleteSubscriberCommandInput,
  DescribeBudgetCommandOutput,
  DescribeNotificationsForBudgetCommandOutput,
  DescribeSubscribersForNotificationCommandOutput,
  Notification,
  Subscriber,
  UpdateBudgetCommandInput,
  UpdateNotificationCommandInput,
} from "@aws-sdk/client-budgets";
import { PROJECT_TAG } from "../../lib/tags";
import type { StackSettings } from "../../lib/stack-config";
import { BILLING_REGION, CallerIdentity, send, Sender } from "../aws";
import { AwsRequestError, CliError, PreconditionError, UsageError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand } from "../invocation";
import { Colours, money, table } from "../ui";
import type { TagState } from "./tags";

export const BUDGET_NAME = "Haumana-Monthly-Budget";
export const BUDGET_UNIT = "USD";
/** Budgets writes a tag filter as "user:<key>$<value>". */
export const BUDGET_COST_FILTERS: Record<string, string[]> = {
  TagKeyValue: [`user:${PROJECT_TAG.key}$${PROJECT_TAG.value}`],
};
export const MAX_SUBSCRIBERS = 10; // Budgets' limit of email subscribers per notification

type Alert = Required<Pick<Notification, "NotificationType" | "ComparisonOperator" | "Threshold" | "ThresholdType">>;

export const ALERTS: readonly Alert[] = [
  { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 80, ThresholdType: "PERCENTAGE" },
  { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
  { NotificationType: "FORECASTED", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
];

export interface BudgetConfig {
  /** Whole cents: Budgets keeps an amount to the cent, and what is compared is what is sent. */
  limitUsd: number;
  emails: string[];
  /** Where each value came from, for the plan ("--limit", "haumana:budgetLimitUsd in Pulumi.prod.yaml"). */
  source: { limit: string; emails: string };
  /** The flags that produced it, to repeat in pasteable hints (["--limit", "25"]). */
  flags: string[];
}

export interface BudgetFlags {
  limit?: number;
  email?: string[];
}

/** A USD amount in whole cents, the way Budgets stores it. */
export function cents(amount: number): number {
  return Math.round(amount * 100);
}

/** Config from the stack file, overridden by flags, validated. */
export function budgetConfig(settings: Pick<StackSettings, "budgetLimitUsd" | "alertEmails"> & { stack?: string }, flags: BudgetFlags = {}): BudgetConfig {
  const file = settings.stack ? `Pulumi.${settings.stack}.yaml` : "the stack file";
  const source = {
    limit: flags.limit !== undefined ? "--limit" : `haumana:budgetLimitUsd in ${file}`,
    emails: flags.email?.length ? "--email" : `haumana:alertEmails in ${file}`,
  };
  const asked = flags.limit ?? settings.budgetLimitUsd;
  if (!Number.isFinite(asked) || asked <= 0) throw new UsageError(`the budget limit (${source.limit}) must be a positive number of USD, got ${asked}`);
  const limitUsd = cents(asked) / 100;
  if (limitUsd === 0) {
    throw new UsageError(`the budget limit ${asked} (${source.limit}) rounds to ${money(0)}: Budgets keeps whole cents, so the smallest limit is ${money(0.01)}`);
  }
  const emails = [...new Set((flags.email?.length ? flags.email : settings.alertEmails).map((e) => e.trim()))];
  const bad = emails.filter((e) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e));
  if (bad.length) throw new UsageError(`not an email address: ${bad.join(", ")}`);
  if (emails.length === 0) throw new UsageError("at least one alert email is needed (--email or haumana:alertEmails)");
  if (emails.length > MAX_SUBSCRIBERS) throw new UsageError(`Budgets allows at most ${MAX_SUBSCRIBERS} email subscribers per alert, got ${emails.length}`);
  const flagWords = [
    ...(flags.limit !== undefined ? ["--limit", amountText(limitUsd)] : []),
    ...(flags.email?.length ? emails.flatMap((e) => ["--email", e]) : []),
  ];
  return { limitUsd, emails, source, flags: flagWords };
}

/** Whether a stored BudgetLimit is the configured one, to the cent. */
export function sameLimit(stored: { Amount?: string; Unit?: string } | undefined, limitUsd: number): boolean {
  return stored?.Unit === BUDGET_UNIT && stored.Amount !== undefined && cents(Number(stored.Amount)) === cents(limitUsd);
}

function storedLimitText(stored: { Amount?: string; Unit?: string } | undefined): string {
  if (!stored?.Amount) return "none";
  return money(Number(stored.Amount), stored.Unit ?? BUDGET_UNIT);
}

export function firstOfMonthUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

function amountText(n: number): string {
  return String(Number(n.toFixed(2)));
}

export function desiredBudget(config: BudgetConfig, now: Date): Budget {
  return {
    BudgetName: BUDGET_NAME,
    BudgetType: "COST",
    TimeUnit: "MONTHLY",
    // No End: a recurring budget.
    TimePeriod: { Start: firstOfMonthUtc(now) },
    BudgetLimit: { Amount: amountText(config.limitUsd), Unit: BUDGET_UNIT },
    CostFilters: BUDGET_COST_FILTERS,
  };
}

const emailSubscriber = (Address: string): Subscriber => ({ SubscriptionType: "EMAIL", Address });

export function alertLabel(n: Pick<Notification, "NotificationType" | "Threshold" | "ThresholdType" | "ComparisonOperator">): string {
  const op = n.ComparisonOperator === "GREATER_THAN" ? ">" : n.ComparisonOperator === "LESS_THAN" ? "<" : "=";
  const unit = (n.ThresholdType ?? "PERCENTAGE") === "PERCENTAGE" ? "%" : " USD";
  return `${(n.NotificationType ?? "").toLowerCase()} ${op} ${n.Threshold}${unit}`;
}

/** The notification as a request names it (NotificationState is read-only). */
function cleanNotification(n: Notification): Notification {
  return {
    NotificationType: n.NotificationType,
    ComparisonOperator: n.ComparisonOperator,
    Threshold: n.Threshold,
    ...(n.ThresholdType ? { ThresholdType: n.ThresholdType } : {}),
  };
}

const sameSlot = (a: Notification, b: Notification) => a.NotificationType === b.NotificationType && Number(a.Threshold) === Number(b.Threshold);
const sameAlert = (a: Notification, b: Notification) =>
  sameSlot(a, b) && a.ComparisonOperator === b.ComparisonOperator && (a.ThresholdType ?? "PERCENTAGE") === (b.ThresholdType ?? "PERCENTAGE");

function normalisedFilters(f: Record<string, string[]> | undefined): string {
  const entries = Object.entries(f ?? {})
    .filter(([, v]) => v && v.length)
    .map(([k, v]) => [k, [...v].sort()] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

// ---------------------------------------------------------------- reading

export interface ManagedAlert {
  alert: Alert;
  /** The notification in this alert's slot, as AWS has it (undefined: missing). */
  existing?: Notification;
  subscribers: Subscriber[];
}

export interface BudgetState {
  budget: Budget;
  alerts: ManagedAlert[];
  /** Notifications on the budget that haumana-ops does not manage. */
  unmanaged: Notification[];
}

export interface BudgetDeps {
  budgets: Sender;
  /** The account id, or who the credentials belong to (account and ARN). */
  accountId: () => Promise<string | CallerIdentity>;
  now?: () => Date;
  /** Status of the Project cost-allocation tag (one Cost Explorer request). */
  projectTagState?: () => Promise<TagState>;
  /** Wraps waits on AWS (a spinner on a TTY). */
  spin?: <T>(label: string, work: () => Promise<T>) => Promise<T>;
  /** Asked before the first write, with the plan; throws to stop (cli/context.ts confirm). Absent: no question. */
  confirm?: (plan: BudgetPlan) => Promise<void>;
}

export interface BudgetPlan {
  account: CallerIdentity;
  requests: PlannedRequest[];
  config: BudgetConfig;
}

async function identity(deps: BudgetDeps): Promise<CallerIdentity> {
  const who = await deps.accountId();
  return typeof who === "string" ? { account: who } : who;
}

const noSpin = <T>(_label: string, work: () => Promise<T>) => work();

const isNotFound = (err: unknown) => err instanceof AwsRequestError && err.awsName === "NotFoundException";

/**
 * The budget, its managed alerts with their subscribers; undefined when there is no
 * budget. Three round trips whatever the number of alerts: the budget and its
 * notifications are asked for together, then every alert's subscribers together.
 */
export async function readBudgetState(budgets: Sender, AccountId: string): Promise<BudgetState | undefined> {
  const readBudget = send<DescribeBudgetCommandOutput>(budgets, new DescribeBudgetCommand({ AccountId, BudgetName: BUDGET_NAME })).then(
    (out) => out.Budget,
    (err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    },
  );
  const readNotifications = (async () => {
    const notifications: Notification[] = [];
    let NextToken: string | undefined;
    do {
      const out = await send<DescribeNotificationsForBudgetCommandOutput>(
        budgets,
        new DescribeNotificationsForBudgetCommand({ AccountId, BudgetName: BUDGET_NAME, MaxResults: 100, NextToken }),
      );
      notifications.push(...(out.Notifications ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    return notifications;
  })();
  const [budgetResult, notificationsResult] = await Promise.allSettled([readBudget, readNotifications]);
  if (budgetResult.status === "rejected") throw budgetResult.reason;
  const budget = budgetResult.value;
  if (!budget) return undefined; // the notifications request failed too (NotFound); nothing to read
  if (notificationsResult.status === "rejected") throw notificationsResult.reason;
  const notifications = notificationsResult.value;

  const claimed = new Set<Notification>();
  const slots = ALERTS.map((alert) => {
    const existing =
      notifications.find((n) => !claimed.has(n) && sameAlert(n, alert)) ?? notifications.find((n) => !claimed.has(n) && sameSlot(n, alert));
    if (existing) claimed.add(existing);
    return { alert, existing };
  });
  const alerts: ManagedAlert[] = await Promise.all(
    slots.map(async ({ alert, existing }) => {
      if (!existing) return { alert, subscribers: [] };
      const subscribers: Subscriber[] = [];
      let token: string | undefined;
      do {
        const out = await send<DescribeSubscribersForNotificationCommandOutput>(
          budgets,
          new DescribeSubscribersForNotificationCommand({
            AccountId,
            BudgetName: BUDGET_NAME,
            Notification: cleanNotification(existing),
            MaxResults: 100,
            NextToken: token,
          }),
        );
        subscribers.push(...(out.Subscribers ?? []));
        token = out.NextToken;
      } while (token);
      return { alert, existing, subscribers };
    }),
  );
  return { budget, alerts, unmanaged: notifications.filter((n) => !claimed.has(n)) };
}

// ---------------------------------------------------------------- planning

export type BudgetRequest =
  | { operation: "CreateBudget"; input: CreateBudgetCommandInput }
  | { operation: "UpdateBudget"; input: UpdateBudgetCommandInput }
  | { operation: "CreateNotification"; input: CreateNotificationCommandInput }
  | { operation: "UpdateNotification"; input: UpdateNotificationCommandInput }
  | { operation: "CreateSubscriber"; input: CreateSubscriberCommandInput }
  | { operation: "DeleteSubscriber"; input: DeleteSubscriberCommandInput };

export interface PlannedRequest {
  request: BudgetRequest;
  summary: string;
}

/** The requests, in order, that take `state` to `config`. Empty when nothing differs. */
export function planBudget(AccountId: string, config: BudgetConfig, state: BudgetState | undefined, now: Date): PlannedRequest[] {
  const desired = desiredBudget(config, now);
  if (!state) {
    return [
      {
        summary:
          `create budget ${BUDGET_NAME}: ${money(config.limitUsd)} a month from ${desired.TimePeriod!.Start!.toISOString().slice(0, 10)}, ` +
          `filter ${BUDGET_COST_FILTERS.TagKeyValue[0]}, alerts ${ALERTS.map(alertLabel).join(", ")} → ${config.emails.join(", ")}`,
        request: {
          operation: "CreateBudget",
          input: {
            AccountId,
            Budget: desired,
            NotificationsWithSubscribers: ALERTS.map((a) => ({ Notification: { ...a }, Subscribers: config.emails.map(emailSubscriber) })),
          },
        },
      },
    ];
  }

  const plan: PlannedRequest[] = [];
  const b = state.budget;
  const changes: string[] = [];
  if (!sameLimit(b.BudgetLimit, config.limitUsd)) {
    const keep = b.BudgetLimit?.Amount && b.BudgetLimit.Unit === BUDGET_UNIT ? `; --limit ${amountText(Number(b.BudgetLimit.Amount))} keeps it` : "";
    changes.push(`limit ${storedLimitText(b.BudgetLimit)} → ${money(config.limitUsd)} (from ${config.source.limit}${config.source.limit === "--limit" ? "" : keep})`);
  }
  if (normalisedFilters(b.CostFilters) !== normalisedFilters(BUDGET_COST_FILTERS)) {
    changes.push(`filter ${JSON.stringify(b.CostFilters ?? {})} → ${JSON.stringify(BUDGET_COST_FILTERS)}`);
  }
  if (b.TimeUnit !== "MONTHLY") changes.push(`period ${b.TimeUnit} → MONTHLY`);
  if (b.BudgetType !== "COST") changes.push(`type ${b.BudgetType} → COST`);
  if (changes.length) {
    const NewBudget: Budget = {
      BudgetName: BUDGET_NAME,
      BudgetType: "COST",
      TimeUnit: "MONTHLY",
      // Keep the existing start (the budget runs on from the month it was created)
      // and cost types (changed by hand in the console, perhaps on purpose).
      TimePeriod: b.TimePeriod ?? desired.TimePeriod,
      BudgetLimit: desired.BudgetLimit,
      CostFilters: BUDGET_COST_FILTERS,
      ...(b.CostTypes ? { CostTypes: b.CostTypes } : {}),
    };
    plan.push({ summary: `update budget: ${changes.join("; ")}`, request: { operation: "UpdateBudget", input: { AccountId, NewBudget } } });
  }

  for (const m of state.alerts) {
    const Notification = { ...m.alert };
    const label = alertLabel(m.alert);
    if (!m.existing) {
      plan.push({
        summary: `add alert ${label} → ${config.emails.join(", ")}`,
        request: {
          operation: "CreateNotification",
          input: { AccountId, BudgetName: BUDGET_NAME, Notification, Subscribers: config.emails.map(emailSubscriber) },
        },
      });
      continue;
    }
    if (!sameAlert(m.existing, m.alert)) {
      plan.push({
        summary: `fix alert ${alertLabel(m.existing)} → ${label}`,
        request: {
          operation: "UpdateNotification",
          input: { AccountId, BudgetName: BUDGET_NAME, OldNotification: cleanNotification(m.existing), NewNotification: Notification },
        },
      });
    }
    const have = m.subscribers.filter((s) => s.SubscriptionType === "EMAIL").map((s) => s.Address!);
    // Add before removing: deleting a notification's last subscriber deletes the notification.
    for (const email of config.emails.filter((e) => !have.includes(e))) {
      plan.push({
        summary: `add ${email} to alert ${label}`,
        request: { operation: "CreateSubscriber", input: { AccountId, BudgetName: BUDGET_NAME, Notification, Subscriber: emailSubscriber(email) } },
      });
    }
    for (const email of have.filter((e) => !config.emails.includes(e))) {
      plan.push({
        summary: `remove ${email} from alert ${label} (not in ${config.source.emails})`,
        request: { operation: "DeleteSubscriber", input: { AccountId, BudgetName: BUDGET_NAME, Notification, Subscriber: emailSubscriber(email) } },
      });
    }
  }
  return plan;
}

function toCommand(r: BudgetRequest): object {
  switch (r.operation) {
    case "CreateBudget":
      return new CreateBudgetCommand(r.input);
    case "UpdateBudget":
      return new UpdateBudgetCommand(r.input);
    case "CreateNotification":
      return new CreateNotificationCommand(r.input);
    case "UpdateNotification":
      return new UpdateNotificationCommand(r.input);
    case "CreateSubscriber":
      return new CreateSubscriberCommand(r.input);
    case "DeleteSubscriber":
      return new DeleteSubscriberCommand(r.input);
  }
}

// ---------------------------------------------------------------- create

export interface BudgetCreateOptions {
  dryRun?: boolean;
  skipTagCheck?: boolean;
}

export interface BudgetCreateResult {
  budgetName: string;
  accountId: string;
  /** Who the credentials belong to, when STS said. */
  accountArn?: string;
  dryRun: boolean;
  /** False when the budget already matched the config. */
  changed: boolean;
  requests: (BudgetRequest & { summary: string })[];
  /** Notifications on the budget left alone because haumana-ops does not manage them. */
  leftAlone: string[];
  /** The Project tag: active, not checked (--skip-tag-check), or (dry run only) not active yet. */
  tagCheck: "active" | "skipped" | "inactive" | "not-seen";
  exitCode: ExitCode;
}

/** Why a budget filtered on Project needs Project active, and what to do about it. */
export function tagNotActive(state: Exclude<TagState, "active">): { message: string; hint: string } {
  return {
    message:
      `the cost-allocation tag ${PROJECT_TAG.key} is ${state === "not-seen" ? "not yet seen by billing" : "inactive"}, ` +
      "and a budget filtered on an inactive tag silently tracks $0 (--skip-tag-check overrides this)",
    hint:
      state === "not-seen"
        ? `Billing lists a tag up to 24 hours after resources carry it: deploy (pulumi up), wait, then run: ${cliCommand("tags", "activate")}`
        : `Activate it: ${cliCommand("tags", "activate")}`,
  };
}

export async function createBudget(deps: BudgetDeps, config: BudgetConfig, opts: BudgetCreateOptions = {}): Promise<BudgetCreateResult> {
  const spin = deps.spin ?? noSpin;
  const now = (deps.now ?? (() => new Date()))();
  let tagCheck: BudgetCreateResult["tagCheck"] = "skipped";
  if (!opts.skipTagCheck) {
    if (!deps.projectTagState) throw new Error("createBudget: projectTagState is required unless skipTagCheck");
    const state = await spin("Checking the Project cost-allocation tag…", deps.projectTagState);
    tagCheck = state;
    // A dry run still shows the plan; only a real run refuses.
    if (state !== "active" && !opts.dryRun) {
      const why = tagNotActive(state);
      throw new PreconditionError(`Refusing to create the budget: ${why.message}.`, "tag_not_active", why.hint);
    }
  }
  const account = await spin("Reading the account id…", () => identity(deps));
  const accountId = account.account;
  const state = await spin(`Reading budget ${BUDGET_NAME}…`, () => readBudgetState(deps.budgets, accountId));
  const plan = planBudget(accountId, config, state, now);
  if (!opts.dryRun && plan.length > 0) {
    await deps.confirm?.({ account, requests: plan, config });
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i];
      try {
        await spin(`${p.request.operation} (${i + 1}/${plan.length})…`, () => send(deps.budgets, toCommand(p.request)));
      } catch (err) {
        if (err instanceof CliError && i > 0) {
          err.message = `${err.message} (after ${i} of ${plan.length} requests succeeded)`;
          err.hint = [err.hint, `To finish, run again: ${cliCommand("budget", "create", ...config.flags)}`].filter(Boolean).join("\n");
        }
        throw err;
      }
    }
  }
  return {
    budgetName: BUDGET_NAME,
    accountId,
    ...(account.arn ? { accountArn: account.arn } : {}),
    dryRun: !!opts.dryRun,
    changed: plan.length > 0,
    requests: plan.map((p) => ({ ...p.request, summary: p.summary })),
    leftAlone: (state?.unmanaged ?? []).map(alertLabel),
    tagCheck,
    exitCode: EXIT.OK,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function accountText(accountId: string, arn?: string): string {
  return `account ${accountId}${arn ? ` (${arn})` : ""}`;
}

/** The plan as `budget create` shows it before asking: where it writes, and each change. */
export function renderBudgetPlan(plan: BudgetPlan, c: Colours): string {
  const lines = [
    `${c.bold(BUDGET_NAME)} in ${accountText(plan.account.account, plan.account.arn)}, AWS Budgets (${BILLING_REGION}):`,
    ...plan.requests.map((p) => `  ${p.request.operation.startsWith("Delete") ? c.red("-") : p.request.operation.startsWith("Create") ? c.green("+") : c.yellow("~")} ${p.summary}`),
    c.dim(
      `One budget per account: it tracks the spend of every stack there (all carry ${PROJECT_TAG.key}=${PROJECT_TAG.value}); ` +
        `the values above come from ${[...new Set([plan.config.source.limit, plan.config.source.emails])].join(" and ")}.`,
    ),
  ];
  return lines.join("\n");
}

export function renderBudgetCreate(r: BudgetCreateResult, c: Colours): string {
  const lines: string[] = [];
  if (!r.changed) {
    lines.push(`${c.green("✓")} ${BUDGET_NAME} in account ${r.accountId} is up to date: nothing to change.`);
  } else if (r.dryRun) {
    lines.push(`Dry run for ${accountText(r.accountId, r.accountArn)}: ${plural(r.requests.length, "request")} would be sent to AWS Budgets (${BILLING_REGION}); none was sent.`);
    r.requests.forEach((q, i) => {
      lines.push("", `${i + 1}. ${c.bold(q.operation)}  ${c.dim(q.summary)}`, JSON.stringify(q.input, null, 2));
    });
  } else {
    for (const q of r.requests) lines.push(`${c.green("✓")} ${q.operation}: ${q.summary}`);
    lines.push(`${BUDGET_NAME} in ${accountText(r.accountId, r.accountArn)}: ${plural(r.requests.length, "change")} made.`);
  }
  for (const n of r.leftAlone) lines.push(c.dim(`· left alone: notification ${n} (not managed by haumana-ops)`));
  return lines.join("\n");
}

// ---------------------------------------------------------------- show

export interface ShowCheck {
  item: string;
  ok: boolean;
  expected: string;
  actual: string;
}

export interface BudgetShowResult {
  budgetName: string;
  accountId: string;
  exists: boolean;
  checks: ShowCheck[];
  /** Amounts in `unit` (USD). */
  spend?: { actual: number | null; forecasted: number | null; limit: number | null; unit: string };
  otherNotifications: string[];
  drift: boolean;
  /** The command that reconciles the drift (null when there is none). */
  fix: string | null;
  exitCode: ExitCode;
}

export function compareBudget(config: BudgetConfig, state: BudgetState | undefined): ShowCheck[] {
  if (!state) {
    return [{ item: "budget", ok: false, expected: "present", actual: "absent" }];
  }
  const b = state.budget;
  const checks: ShowCheck[] = [];
  checks.push({
    item: "limit",
    ok: sameLimit(b.BudgetLimit, config.limitUsd),
    expected: money(config.limitUsd),
    actual: storedLimitText(b.BudgetLimit),
  });
  checks.push({
    item: "period",
    ok: b.TimeUnit === "MONTHLY" && b.BudgetType === "COST",
    expected: "COST, MONTHLY",
    actual: `${b.BudgetType}, ${b.TimeUnit}` + (b.TimePeriod?.Start ? `, from ${new Date(b.TimePeriod.Start).toISOString().slice(0, 10)}` : ""),
  });
  checks.push({
    item: "filter",
    ok: normalisedFilters(b.CostFilters) === normalisedFilters(BUDGET_COST_FILTERS),
    expected: BUDGET_COST_FILTERS.TagKeyValue.join(", "),
    actual: Object.keys(b.CostFilters ?? {}).length ? Object.entries(b.CostFilters!).map(([k, v]) => `${k}: ${v.join(", ")}`).join("; ") : "none (whole account)",
  });
  for (const m of state.alerts) {
    const label = alertLabel(m.alert);
    checks.push({
      item: `alert ${label}`,
      ok: !!m.existing && sameAlert(m.existing, m.alert),
      expected: label,
      actual: m.existing ? `${alertLabel(m.existing)} (${m.existing.ComparisonOperator}, ${m.existing.ThresholdType ?? "PERCENTAGE"})` : "missing",
    });
    const have = m.subscribers.filter((s) => s.SubscriptionType === "EMAIL").map((s) => s.Address!);
    for (const email of config.emails) {
      checks.push({ item: `  email ${email}`, ok: have.includes(email), expected: "subscribed", actual: have.includes(email) ? "subscribed" : "missing" });
    }
    for (const email of have.filter((e) => !config.emails.includes(e))) {
      checks.push({ item: `  email ${email}`, ok: false, expected: "not subscribed (not in config)", actual: "subscribed" });
    }
  }
  return checks;
}

export async function showBudget(deps: BudgetDeps, config: BudgetConfig): Promise<BudgetShowResult> {
  const spin = deps.spin ?? noSpin;
  const accountId = (await spin("Reading the account id…", () => identity(deps))).account;
  const state = await spin(`Reading budget ${BUDGET_NAME}…`, () => readBudgetState(deps.budgets, accountId));
  const checks = compareBudget(config, state);
  const drift = checks.some((c) => !c.ok);
  const num = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));
  const spend = state?.budget.CalculatedSpend;
  return {
    budgetName: BUDGET_NAME,
    accountId,
    exists: !!state,
    checks,
    ...(state
      ? {
          spend: {
            actual: num(spend?.ActualSpend?.Amount),
            forecasted: num(spend?.ForecastedSpend?.Amount),
            limit: num(state.budget.BudgetLimit?.Amount),
            unit: spend?.ActualSpend?.Unit ?? state.budget.BudgetLimit?.Unit ?? BUDGET_UNIT,
          },
        }
      : {}),
    otherNotifications: (state?.unmanaged ?? []).map(alertLabel),
    drift,
    fix: drift ? cliCommand("budget", "create", ...config.flags) : null,
    exitCode: drift ? EXIT.FAILURE : EXIT.OK,
  };
}

export function renderBudgetShow(r: BudgetShowResult, c: Colours): string {
  const rows = r.checks.map((k) => [
    k.ok ? c.green("✓") : c.red("✗"),
    k.item,
    k.ok ? k.actual : `${k.actual}  ${c.dim(`(config: ${k.expected})`)}`,
  ]);
  const lines = [`${c.bold(r.budgetName)}  account ${r.accountId}`, table(rows)];
  if (r.spend) {
    const s = r.spend;
    const amount = (n: number | null) => (n === null ? "n/a" : money(n, s.unit));
    const pct = (n: number | null) => (n === null || !s.limit ? "" : ` (${Math.round((n / s.limit) * 100)} % of the ${money(s.limit, s.unit)} limit)`);
    lines.push("", `Actual spend this month:   ${amount(s.actual)}${pct(s.actual)}`);
    lines.push(`Forecasted to month end:   ${amount(s.forecasted)}${pct(s.forecasted)}`);
  }
  for (const n of r.otherNotifications) lines.push(c.dim(`· also on the budget, not managed: notification ${n}`));
  const verdict = !r.exists ? c.red(`No budget yet. Create it: ${r.fix}`) : r.drift ? c.red(`Drift. Reconcile: ${r.fix}`) : c.green("Matches the config.");
  lines.push("", verdict);
  return lines.join("\n");
}
