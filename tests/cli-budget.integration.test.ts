// budget create / show / idempotency against a real moto_server, with the real
// SDK over HTTP. The clients come from cli/aws.ts pointed at moto through
// AWS_ENDPOINT_URL, as a user would point them at an emulator. moto lacks
// DescribeSubscribersForNotification; tests/helpers/moto-budgets.ts answers it
// from what moto accepted (see there).
import {
  BudgetsClient,
  CreateBudgetCommand,
  DeleteNotificationCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
} from "@aws-sdk/client-budgets";
import {
  ALERTS,
  BUDGET_NAME,
  budgetConfig,
  createBudget,
  renderBudgetCreate,
  renderBudgetShow,
  showBudget,
} from "../cli/actions/budget";
import { budgetsClient, callerAccountId, stsClient } from "../cli/aws";
import { colours } from "../cli/ui";
import { readStackSettings } from "../lib/stack-config";
import { startMoto, MotoServer } from "./helpers/moto";
import { BudgetsProxy, resetMoto, startBudgetsProxy } from "./helpers/moto-budgets";

const ACCOUNT = "123456789012"; // moto's account
const NOW = new Date("2026-12-15T10:00:00Z");
const plain = colours(false);

let moto: MotoServer;
let proxy: BudgetsProxy;
const savedEnv = { ...process.env };
let raw: BudgetsClient;

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startBudgetsProxy(moto.endpoint);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  delete process.env.AWS_PROFILE;
  raw = new BudgetsClient(moto.clientConfig);
});

afterAll(async () => {
  process.env = savedEnv;
  raw?.destroy();
  await proxy?.stop();
  await moto?.stop();
});

beforeEach(async () => {
  await resetMoto(moto.endpoint);
  proxy.clear();
});

function deps() {
  const sts = stsClient();
  return { budgets: budgetsClient(), accountId: () => callerAccountId(sts), now: () => NOW };
}

const prodConfig = () => budgetConfig(readStackSettings("prod"));
const writes = () => proxy.requests.filter((r) => !/^(Describe|GetCallerIdentity)/.test(r.operation));

async function describeAll(name: string) {
  const budget = (await raw.send(new DescribeBudgetCommand({ AccountId: ACCOUNT, BudgetName: name }))).Budget!;
  const notifications = (await raw.send(new DescribeNotificationsForBudgetCommand({ AccountId: ACCOUNT, BudgetName: name }))).Notifications ?? [];
  return { budget, notifications };
}

test("create makes the tag-filtered monthly budget with the three alerts, from the stack config", async () => {
  const config = prodConfig();
  expect(config).toMatchObject({ limitUsd: 10, emails: ["david.herman@gmail.com"], flags: [] });
  const result = await createBudget(deps(), config, { skipTagCheck: true });
  expect(result.changed).toBe(true);
  expect(result.accountId).toBe(ACCOUNT);
  expect(result.requests.map((r) => r.operation)).toEqual(["CreateBudget"]);
  expect(writes().map((w) => w.operation)).toEqual(["CreateBudget"]);

  const { budget, notifications } = await describeAll(BUDGET_NAME);
  expect(budget).toMatchObject({
    BudgetName: "Haumana-Monthly-Budget",
    BudgetType: "COST",
    TimeUnit: "MONTHLY",
    BudgetLimit: { Amount: "10", Unit: "USD" },
    CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
  });
  expect(new Date(budget.TimePeriod!.Start!).toISOString()).toBe("2026-12-01T00:00:00.000Z");
  expect(notifications).toHaveLength(3);
  expect(notifications).toEqual(
    expect.arrayContaining([
      { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 80, ThresholdType: "PERCENTAGE" },
      { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
      { NotificationType: "FORECASTED", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
    ]),
  );
  // The subscribers went over the wire with the CreateBudget request.
  const sent = writes()[0].body;
  for (const n of sent.NotificationsWithSubscribers) expect(n.Subscribers).toEqual([{ SubscriptionType: "EMAIL", Address: "david.herman@gmail.com" }]);
});

test("a second run changes nothing, sends no writes, and says so", async () => {
  await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  const before = await describeAll(BUDGET_NAME);
  proxy.requests.length = 0;

  const again = await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  expect(again.changed).toBe(false);
  expect(again.requests).toEqual([]);
  expect(writes()).toEqual([]);
  expect(proxy.requests.map((r) => r.operation).sort()).toEqual(
    [
      "GetCallerIdentity",
      "DescribeBudget",
      "DescribeNotificationsForBudget",
      "DescribeSubscribersForNotification",
      "DescribeSubscribersForNotification",
      "DescribeSubscribersForNotification",
    ].sort(),
  );
  expect(renderBudgetCreate(again, plain)).toBe(`✓ ${BUDGET_NAME} in account ${ACCOUNT} is up to date: nothing to change.`);
  expect(await describeAll(BUDGET_NAME)).toEqual(before);
});

test("dry run reads but sends nothing, and prints the CreateBudget request it would send", async () => {
  const result = await createBudget(deps(), prodConfig(), { skipTagCheck: true, dryRun: true });
  expect(result.dryRun).toBe(true);
  expect(result.requests).toHaveLength(1);
  expect(writes()).toEqual([]);
  await expect(raw.send(new DescribeBudgetCommand({ AccountId: ACCOUNT, BudgetName: BUDGET_NAME }))).rejects.toMatchObject({ name: "NotFoundException" });
  const text = renderBudgetCreate(result, plain);
  expect(text).toContain("1. CreateBudget");
  expect(JSON.parse(text.slice(text.indexOf("{")))).toEqual(JSON.parse(JSON.stringify(result.requests[0].input)));
});

test("show: absent budget is drift (exit 1)", async () => {
  const result = await showBudget(deps(), prodConfig());
  expect(result.exists).toBe(false);
  expect(result.drift).toBe(true);
  expect(result.exitCode).toBe(1);
  expect(renderBudgetShow(result, plain)).toMatch(/✗\s+budget\s+absent/);
});

test("show after create: every item ✓, spend from the budget, exit 0", async () => {
  await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  const result = await showBudget(deps(), prodConfig());
  expect(result.drift).toBe(false);
  expect(result.exitCode).toBe(0);
  expect(result.checks.map((c) => c.item)).toEqual([
    "limit",
    "period",
    "filter",
    "alert actual > 80%",
    "  email david.herman@gmail.com",
    "alert actual > 100%",
    "  email david.herman@gmail.com",
    "alert forecasted > 100%",
    "  email david.herman@gmail.com",
  ]);
  expect(result.checks.every((c) => c.ok)).toBe(true);
  expect(result.spend).toEqual({ actual: 0, forecasted: 0, limit: 10, unit: "USD" });
  const text = renderBudgetShow(result, plain);
  expect(text).toMatch(/✓\s+limit\s+\$10\.00\n/);
  expect(text).not.toContain("✗");
});

test("show flags a limit that differs from the config", async () => {
  await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  const result = await showBudget(deps(), budgetConfig(readStackSettings("prod"), { limit: 20 }));
  expect(result.exitCode).toBe(1);
  expect(result.checks.filter((c) => !c.ok)).toEqual([{ item: "limit", ok: false, expected: "$20.00", actual: "$10.00" }]);
  expect(result.fix).toBe("haumana-ops budget create --limit 20");
});

test("an alert deleted by hand shows as ✗ and create puts back exactly that one", async () => {
  await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  const forecasted = ALERTS[2];
  await raw.send(new DeleteNotificationCommand({ AccountId: ACCOUNT, BudgetName: BUDGET_NAME, Notification: forecasted }));

  const shown = await showBudget(deps(), prodConfig());
  expect(shown.checks.filter((c) => !c.ok).map((c) => c.item)).toEqual(["alert forecasted > 100%", "  email david.herman@gmail.com"]);

  proxy.requests.length = 0;
  const fixed = await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  expect(writes().map(({ operation, body }) => ({ operation, body }))).toEqual([
    {
      operation: "CreateNotification",
      body: {
        AccountId: ACCOUNT,
        BudgetName: BUDGET_NAME,
        Notification: forecasted,
        Subscribers: [{ SubscriptionType: "EMAIL", Address: "david.herman@gmail.com" }],
      },
    },
  ]);
  expect(fixed.changed).toBe(true);
  expect((await showBudget(deps(), prodConfig())).drift).toBe(false);
});

test("never reads or writes another budget", async () => {
  const other = {
    AccountId: ACCOUNT,
    Budget: { BudgetName: "Someone-Elses-Budget", BudgetType: "COST" as const, TimeUnit: "MONTHLY" as const, BudgetLimit: { Amount: "500", Unit: "USD" } },
    NotificationsWithSubscribers: [
      {
        Notification: { NotificationType: "ACTUAL" as const, ComparisonOperator: "GREATER_THAN" as const, Threshold: 80, ThresholdType: "PERCENTAGE" as const },
        Subscribers: [{ SubscriptionType: "EMAIL" as const, Address: "finance@example.com" }],
      },
    ],
  };
  await raw.send(new CreateBudgetCommand(other));
  const before = await describeAll("Someone-Elses-Budget");
  proxy.requests.length = 0;

  await createBudget(deps(), prodConfig(), { skipTagCheck: true });
  await createBudget(deps(), budgetConfig(readStackSettings("prod"), { email: ["x@example.com"] }), { skipTagCheck: true, dryRun: true });
  await showBudget(deps(), prodConfig());

  const named = proxy.requests.filter((r) => r.operation !== "GetCallerIdentity");
  expect(named.length).toBeGreaterThan(0);
  for (const r of named) expect(r.body.BudgetName ?? r.body.Budget?.BudgetName).toBe(BUDGET_NAME);
  expect(await describeAll("Someone-Elses-Budget")).toEqual(before);
});
