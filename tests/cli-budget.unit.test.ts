// budget create's reconcile paths that moto cannot run (UpdateBudget,
// UpdateNotification, CreateSubscriber, DeleteSubscriber), the tag-check refusal
// and the AccessDenied mapping: aws-sdk-client-mock at the SDK boundary, asserting
// the exact requests in order.
import {
  AccessDeniedException,
  BudgetsClient,
  CreateNotificationCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  NotFoundException,
  Notification,
} from "@aws-sdk/client-budgets";
import { CostExplorerClient, ListCostAllocationTagsCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { BUDGET_NAME, budgetConfig, createBudget, showBudget } from "../cli/actions/budget";
import { readTagStatuses } from "../cli/actions/tags";
import { CredentialsError, PreconditionError, UsageError } from "../cli/errors";

const ACCOUNT = "111122223333";
const NOW = new Date("2026-12-15T10:00:00Z");
const START = new Date("2026-09-01T00:00:00Z");
const END = new Date("2087-06-15T00:00:00Z");
const COST_TYPES = { IncludeTax: false, IncludeCredit: true };

const budgets = mockClient(BudgetsClient);
const ce = mockClient(CostExplorerClient);

beforeEach(() => {
  budgets.reset();
  ce.reset();
});

const n = (type: "ACTUAL" | "FORECASTED", threshold: number, extra: Partial<Notification> = {}): Notification => ({
  NotificationType: type,
  ComparisonOperator: "GREATER_THAN",
  Threshold: threshold,
  ThresholdType: "PERCENTAGE",
  ...extra,
});
const email = (Address: string) => ({ SubscriptionType: "EMAIL" as const, Address });

function deps(tagState?: () => Promise<any>) {
  return {
    budgets: new BudgetsClient({ region: "us-east-1" }),
    accountId: async () => ACCOUNT,
    now: () => NOW,
    ...(tagState ? { projectTagState: tagState } : {}),
  };
}

/** Every request sent, in order, as [operation, input]. */
const sent = () => budgets.calls().map((c) => [(c.args[0] as any).constructor.name.replace(/Command$/, ""), (c.args[0] as any).input]);
const writes = () => sent().filter(([op]) => !op.startsWith("Describe"));

function existingBudget(limit = "10.0") {
  budgets.on(DescribeBudgetCommand).resolves({
    Budget: {
      BudgetName: BUDGET_NAME,
      BudgetType: "COST",
      TimeUnit: "MONTHLY",
      TimePeriod: { Start: START, End: END },
      BudgetLimit: { Amount: limit, Unit: "USD" },
      CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
      CostTypes: COST_TYPES,
      CalculatedSpend: { ActualSpend: { Amount: "3.2", Unit: "USD" }, ForecastedSpend: { Amount: "9.9", Unit: "USD" } },
    },
  });
}

describe("budget create reconciles a changed config", () => {
  beforeEach(() => {
    existingBudget();
    budgets.on(DescribeNotificationsForBudgetCommand).resolves({
      Notifications: [
        n("ACTUAL", 80, { NotificationState: "ALARM" }), // right, and in alarm: state is not drift
        n("ACTUAL", 100, { ComparisonOperator: "EQUAL_TO" }), // changed by hand
        n("ACTUAL", 50), // added by hand: not ours
        // FORECASTED 100 missing
      ],
    });
    budgets
      .on(DescribeSubscribersForNotificationCommand, { Notification: n("ACTUAL", 80) })
      .resolves({ Subscribers: [email("old@example.com"), { SubscriptionType: "SNS", Address: "arn:aws:sns:us-east-1:111122223333:ops" }] })
      .on(DescribeSubscribersForNotificationCommand, { Notification: n("ACTUAL", 100, { ComparisonOperator: "EQUAL_TO" }) })
      .resolves({ Subscribers: [email("old@example.com"), email("keep@example.com")] });
  });

  const config = () => budgetConfig({ budgetLimitUsd: 10, alertEmails: ["unused@example.com"] }, { limit: 25, email: ["keep@example.com", "new@example.com"] });

  test("sends exactly: UpdateBudget, fixes, adds before removes, and the missing alert", async () => {
    const result = await createBudget(deps(), config(), { skipTagCheck: true });
    const ours = (x: object) => ({ AccountId: ACCOUNT, BudgetName: BUDGET_NAME, ...x });
    expect(writes()).toEqual([
      [
        "UpdateBudget",
        {
          AccountId: ACCOUNT,
          NewBudget: {
            BudgetName: BUDGET_NAME,
            BudgetType: "COST",
            TimeUnit: "MONTHLY",
            TimePeriod: { Start: START, End: END },
            BudgetLimit: { Amount: "25", Unit: "USD" },
            CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
            CostTypes: COST_TYPES,
          },
        },
      ],
      ["CreateSubscriber", ours({ Notification: n("ACTUAL", 80), Subscriber: email("keep@example.com") })],
      ["CreateSubscriber", ours({ Notification: n("ACTUAL", 80), Subscriber: email("new@example.com") })],
      ["DeleteSubscriber", ours({ Notification: n("ACTUAL", 80), Subscriber: email("old@example.com") })],
      ["UpdateNotification", ours({ OldNotification: n("ACTUAL", 100, { ComparisonOperator: "EQUAL_TO" }), NewNotification: n("ACTUAL", 100) })],
      ["CreateSubscriber", ours({ Notification: n("ACTUAL", 100), Subscriber: email("new@example.com") })],
      ["DeleteSubscriber", ours({ Notification: n("ACTUAL", 100), Subscriber: email("old@example.com") })],
      ["CreateNotification", ours({ Notification: n("FORECASTED", 100), Subscribers: [email("keep@example.com"), email("new@example.com")] })],
    ]);
    expect(result.changed).toBe(true);
    expect(result.leftAlone).toEqual(["actual > 50%"]);
    // Reads name the notification without its read-only state.
    const reads = budgets.commandCalls(DescribeSubscribersForNotificationCommand).map((c) => c.args[0].input.Notification);
    expect(reads).toEqual([n("ACTUAL", 80), n("ACTUAL", 100, { ComparisonOperator: "EQUAL_TO" })]);
  });

  test("dry run plans the same requests and sends none", async () => {
    const result = await createBudget(deps(), config(), { skipTagCheck: true, dryRun: true });
    expect(writes()).toEqual([]);
    expect(result.requests.map((r) => r.operation)).toEqual([
      "UpdateBudget",
      "CreateSubscriber",
      "CreateSubscriber",
      "DeleteSubscriber",
      "UpdateNotification",
      "CreateSubscriber",
      "DeleteSubscriber",
      "CreateNotification",
    ]);
  });

  test("every request names only Haumana-Monthly-Budget", async () => {
    await createBudget(deps(), config(), { skipTagCheck: true });
    for (const [, input] of sent()) expect(input.BudgetName ?? input.NewBudget?.BudgetName).toBe(BUDGET_NAME);
  });

  test("show lists each difference as ✗, leaves the SNS subscriber and the 50 % alert out of drift", async () => {
    const result = await showBudget(deps(), config());
    expect(result.exitCode).toBe(1);
    expect(result.checks.filter((c) => !c.ok).map((c) => [c.item, c.actual])).toEqual([
      ["limit", "$10.00"],
      ["  email keep@example.com", "missing"],
      ["  email new@example.com", "missing"],
      ["  email old@example.com", "subscribed"],
      ["alert actual > 100%", "actual = 100% (EQUAL_TO, PERCENTAGE)"],
      ["  email new@example.com", "missing"],
      ["  email old@example.com", "subscribed"],
      ["alert forecasted > 100%", "missing"],
      ["  email keep@example.com", "missing"],
      ["  email new@example.com", "missing"],
    ]);
    expect(result.otherNotifications).toEqual(["actual > 50%"]);
    expect(result.spend).toEqual({ actual: 3.2, forecasted: 9.9, limit: 10, unit: "USD" });
  });
});

test("an unchanged budget whose amount AWS writes as 10.0 needs no update", async () => {
  existingBudget("10.0");
  budgets.on(DescribeNotificationsForBudgetCommand).resolves({ Notifications: [n("ACTUAL", 80), n("ACTUAL", 100), n("FORECASTED", 100)] });
  budgets.on(DescribeSubscribersForNotificationCommand).resolves({ Subscribers: [email("a@example.com")] });
  const result = await createBudget(deps(), budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] }), { skipTagCheck: true });
  expect(result.changed).toBe(false);
  expect(writes()).toEqual([]);
});

test("notifications and subscribers are read across pages", async () => {
  existingBudget("10");
  budgets
    .on(DescribeNotificationsForBudgetCommand, { NextToken: undefined })
    .resolves({ Notifications: [n("ACTUAL", 80), n("ACTUAL", 100)], NextToken: "p2" })
    .on(DescribeNotificationsForBudgetCommand, { NextToken: "p2" })
    .resolves({ Notifications: [n("FORECASTED", 100)] });
  budgets
    .on(DescribeSubscribersForNotificationCommand, { NextToken: undefined })
    .resolves({ Subscribers: [email("a@example.com")], NextToken: "s2" })
    .on(DescribeSubscribersForNotificationCommand, { NextToken: "s2" })
    .resolves({ Subscribers: [email("b@example.com")] });
  const result = await createBudget(deps(), budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com", "b@example.com"] }), { skipTagCheck: true });
  expect(writes()).toEqual([]);
  expect(result.changed).toBe(false);
});

test("a missing budget is created with its alerts in one CreateBudget", async () => {
  budgets.on(DescribeBudgetCommand).rejects(new NotFoundException({ message: "nope", $metadata: {} }));
  await createBudget(deps(), budgetConfig({ budgetLimitUsd: 12.5, alertEmails: ["a@example.com"] }), { skipTagCheck: true });
  expect(writes()).toHaveLength(1);
  const [op, input] = writes()[0];
  expect(op).toBe("CreateBudget");
  expect(input.Budget).toEqual({
    BudgetName: BUDGET_NAME,
    BudgetType: "COST",
    TimeUnit: "MONTHLY",
    TimePeriod: { Start: new Date("2026-12-01T00:00:00Z") },
    BudgetLimit: { Amount: "12.5", Unit: "USD" },
    CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
  });
  expect(input.NotificationsWithSubscribers.map((x: any) => [x.Notification, x.Subscribers])).toEqual([
    [n("ACTUAL", 80), [email("a@example.com")]],
    [n("ACTUAL", 100), [email("a@example.com")]],
    [n("FORECASTED", 100), [email("a@example.com")]],
  ]);
});

describe("the Project tag check", () => {
  const tagState = () => readTagStatuses(new CostExplorerClient({ region: "us-east-1" })).then((t) => t.find((x) => x.key === "Project")!.state);
  const cfg = () => budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] });

  test.each([
    ["Inactive", [{ TagKey: "Project", Type: "UserDefined", Status: "Inactive" }], /is inactive/],
    ["not seen", [], /not yet seen by billing/],
  ])("refuses while Project is %s, before any Budgets request (exit 4)", async (_label, tags, message) => {
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: tags as any });
    const err = await createBudget(deps(tagState), cfg()).catch((e) => e);
    expect(err).toBeInstanceOf(PreconditionError);
    expect(err).toMatchObject({ code: "tag_not_active", exitCode: 4 });
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/--skip-tag-check overrides this/);
    expect(err.hint).toMatch(/: haumana-ops tags activate$/);
    expect(budgets.calls()).toHaveLength(0);
  });

  test("goes ahead when Project is active", async () => {
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [{ TagKey: "Project", Type: "UserDefined", Status: "Active" }] });
    budgets.on(DescribeBudgetCommand).rejects(new NotFoundException({ message: "nope", $metadata: {} }));
    const result = await createBudget(deps(tagState), cfg());
    expect(result.tagCheck).toBe("active");
    expect(writes().map(([op]) => op)).toEqual(["CreateBudget"]);
  });

  test("--skip-tag-check sends no Cost Explorer request", async () => {
    budgets.on(DescribeBudgetCommand).rejects(new NotFoundException({ message: "nope", $metadata: {} }));
    const result = await createBudget(deps(tagState), cfg(), { skipTagCheck: true });
    expect(result.tagCheck).toBe("skipped");
    expect(ce.calls()).toHaveLength(0);
  });
});

describe("AccessDenied names the IAM action", () => {
  test("a read needs budgets:ViewBudget (exit 3)", async () => {
    budgets.on(DescribeBudgetCommand).rejects(new AccessDeniedException({ message: "User: arn:aws:iam::1:user/x is not authorized", $metadata: {} }));
    const err = await showBudget(deps(), budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] })).catch((e) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe("Access denied: DescribeBudget needs the IAM permission budgets:ViewBudget.");
  });

  test("a write needs budgets:ModifyBudget, and says how far it got", async () => {
    existingBudget("5");
    budgets.on(DescribeNotificationsForBudgetCommand).resolves({ Notifications: [n("ACTUAL", 80), n("ACTUAL", 100)] });
    budgets.on(DescribeSubscribersForNotificationCommand).resolves({ Subscribers: [email("a@example.com")] });
    budgets.on(CreateNotificationCommand).rejects(new AccessDeniedException({ message: "denied", $metadata: {} }));
    const err = await createBudget(deps(), budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] }), { skipTagCheck: true }).catch((e) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err.message).toBe(
      "Access denied: CreateNotification needs the IAM permission budgets:ModifyBudget. (after 1 of 2 requests succeeded)",
    );
    expect(err.hint).toMatch(/\nTo finish, run again: haumana-ops budget create$/);
  });
});

describe("budgetConfig", () => {
  test("flags override the stack file", () => {
    expect(budgetConfig({ stack: "prod", budgetLimitUsd: 10, alertEmails: ["a@example.com"] })).toEqual({
      limitUsd: 10,
      emails: ["a@example.com"],
      source: { limit: "haumana:budgetLimitUsd in Pulumi.prod.yaml", emails: "haumana:alertEmails in Pulumi.prod.yaml" },
      flags: [],
    });
    expect(budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] }, { limit: 3, email: ["b@example.com", "b@example.com"] })).toMatchObject({
      limitUsd: 3,
      emails: ["b@example.com"],
      source: { limit: "--limit", emails: "--email" },
      flags: ["--limit", "3", "--email", "b@example.com"],
    });
  });

  test("rejects bad input as usage errors", () => {
    expect(() => budgetConfig({ budgetLimitUsd: 10, alertEmails: ["not-an-email"] })).toThrow(UsageError);
    expect(() => budgetConfig({ budgetLimitUsd: 10, alertEmails: ["a@example.com"] }, { limit: -1 })).toThrow(UsageError);
    const eleven = Array.from({ length: 11 }, (_, i) => `u${i}@example.com`);
    expect(() => budgetConfig({ budgetLimitUsd: 10, alertEmails: eleven })).toThrow(/at most 10/);
  });
});
