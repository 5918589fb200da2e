// The whole command line in-process (cli/program.ts `run`), for what moto cannot
// answer: Cost Explorer's cost-allocation tags and forecast, Budgets' updates, and
// a terminal's answer to the confirmation. aws-sdk-client-mock stands in for AWS at
// the SDK boundary; the assertions are on stdout, stderr, the exit code and the
// requests sent, as for the binary.
import {
  BudgetsClient,
  CreateBudgetCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  UpdateBudgetCommand,
} from "@aws-sdk/client-budgets";
import {
  CostExplorerClient,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  LimitExceededException,
  ListCostAllocationTagsCommand,
  UpdateCostAllocationTagsStatusCommand,
} from "@aws-sdk/client-cost-explorer";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { EXIT } from "../cli/exit-codes";
import { run } from "../cli/program";
import { IO } from "../cli/ui";

const ce = mockClient(CostExplorerClient);
const budgets = mockClient(BudgetsClient);
const sts = mockClient(STSClient);
const ACCOUNT = "111122223333";

beforeEach(() => {
  ce.reset();
  budgets.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
});

interface Session {
  code: number;
  stdout: string;
  stderr: string;
  questions: string[];
}

/** One command line; `terminal` makes stdin and stderr terminals whose user answers `answer`. */
async function cli(args: string[], opts: { terminal?: boolean; answer?: boolean } = {}): Promise<Session> {
  let stdout = "";
  let stderr = "";
  const questions: string[] = [];
  const io: IO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.terminal },
    stdin: { isTTY: opts.terminal },
    env: { NO_COLOR: "1" },
    ask: async (q) => (questions.push(q), !!opts.answer),
  };
  const code = await run(["node", "haumana-ops", ...args], io);
  // The spinner draws on a terminal; what is left once its line is cleared is what a user reads.
  stderr = stderr.replace(/\r\x1b\[K(?:[^\r\n]*?(?=\r\x1b\[K))?/g, "").replace(/\r\x1b\[K/g, "");
  return { code, stdout, stderr, questions };
}

const ceCalls = () => ce.calls().map((c) => (c.args[0] as any).constructor.name.replace(/Command$/, ""));
const money = (a: string) => ({ UnblendedCost: { Amount: a, Unit: "USD" } });
const metadata = { httpStatusCode: 400 };
/** An error as the SDK throws it for an AWS error answer (Cost Explorer models no AccessDeniedException). */
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: "client", $metadata: metadata });

describe("cost report keeps what it paid for", () => {
  beforeEach(() => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({
      ResultsByTime: [{ TimePeriod: { Start: "2026-12-01", End: "2026-12-16" }, Groups: [{ Keys: ["AWS Lambda"], Metrics: money("1.5") }] }],
    });
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "TAG", Key: "Project" }] }).resolves({
      ResultsByTime: [{ Groups: [{ Keys: ["Project$Haumana"], Metrics: money("1.5") }, { Keys: ["Project$"], Metrics: money("0.5") }] }],
    });
  });

  test("forecast denied (ce:GetCostForecast missing): the report, the denial, the count; exit 3", async () => {
    ce.on(GetCostForecastCommand).rejects(awsError("AccessDeniedException", "not authorized to perform: ce:GetCostForecast"));
    const r = await cli(["cost", "report"]);
    expect(r.code).toBe(EXIT.CREDENTIALS);
    expect(r.stdout).toMatch(/AWS Lambda\s+\$1\.50/);
    expect(r.stdout).toMatch(/without a Project tag\s+\$0\.50/);
    expect(r.stderr).toContain("error: Access denied: GetCostForecast needs the IAM permission ce:GetCostForecast.");
    expect(r.stderr).toContain("Cost Explorer requests: 3 ($0.03 at $0.01 each)");
    expect(ceCalls()).toEqual(["GetCostAndUsage", "GetCostAndUsage", "GetCostForecast"]);
  });

  test("the account-by-tag request fails: the project's cost and the forecast still print; exit 1", async () => {
    ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "TAG", Key: "Project" }] }).rejects(new LimitExceededException({ message: "Rate exceeded", $metadata: metadata }));
    ce.on(GetCostForecastCommand).resolves({ Total: { Amount: "2", Unit: "USD" } });
    const r = await cli(["cost", "report", "--json"]);
    expect(r.code).toBe(EXIT.FAILURE);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ project: { total: 1.5 }, account: null, forecast: { available: true, monthEnd: 3.5 } });
    expect(report.failures).toEqual([{ operation: "GetCostAndUsage", code: "aws_error", message: "GetCostAndUsage failed: LimitExceededException: Rate exceeded", exitCode: 1 }]);
    expect(r.stderr).toContain("Cost Explorer requests: 3");
  });

  test("the first request fails: nothing to show, but the count is still said", async () => {
    ce.on(GetCostAndUsageCommand).rejects(awsError("AccessDeniedException", "denied"));
    const r = await cli(["cost", "report"]);
    expect(r.code).toBe(EXIT.CREDENTIALS);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Access denied: GetCostAndUsage needs the IAM permission ce:GetCostAndUsage.");
    expect(r.stderr).toContain("Cost Explorer requests: 1 ($0.01 at $0.01 each)");
  });
});

describe("a cost-allocation tag not active is exit 4 from every command", () => {
  const seen = (statuses: Record<string, "Active" | "Inactive">) =>
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: Object.entries(statuses).map(([TagKey, Status]) => ({ TagKey, Type: "UserDefined", Status })) });

  test.each([
    ["not yet seen", { Project: "Active", Environment: "Active" } as const],
    ["inactive", { Project: "Active", Environment: "Active", CostCenter: "Inactive" } as const],
  ])("CostCenter %s: tags check exits 4", async (_state, statuses) => {
    seen(statuses);
    expect((await cli(["tags", "check"])).code).toBe(EXIT.PRECONDITION);
  });

  test("not yet seen: tags activate exits 4 too, and sends no update", async () => {
    seen({ Project: "Active", Environment: "Active" });
    const r = await cli(["tags", "activate"]);
    expect(r.code).toBe(EXIT.PRECONDITION);
    expect(ceCalls()).toEqual(["ListCostAllocationTags"]);
  });

  test("Project inactive: budget create refuses (4), budget create --dry-run shows the plan (0)", async () => {
    seen({ Project: "Inactive", Environment: "Active", CostCenter: "Active" });
    budgets.on(DescribeBudgetCommand).rejects(awsError("NotFoundException", "not found"));
    budgets.on(DescribeNotificationsForBudgetCommand).rejects(awsError("NotFoundException", "not found"));
    const real = await cli(["budget", "create", "--yes"]);
    expect(real.code).toBe(EXIT.PRECONDITION);
    expect(real.stderr).toContain("Activate it: haumana-ops tags activate");
    const dry = await cli(["budget", "create", "--dry-run"]);
    expect(dry.code).toBe(EXIT.OK);
    expect(dry.stdout).toContain("1. CreateBudget");
    expect(budgets.commandCalls(CreateBudgetCommand)).toHaveLength(0);
  });
});

describe("the confirmation before budget create writes", () => {
  beforeEach(() => {
    budgets.on(DescribeBudgetCommand).resolves({
      Budget: {
        BudgetName: "Haumana-Monthly-Budget",
        BudgetType: "COST",
        TimeUnit: "MONTHLY",
        TimePeriod: { Start: new Date("2026-09-01T00:00:00Z") },
        BudgetLimit: { Amount: "25.0", Unit: "USD" },
        CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
      },
    });
    budgets.on(DescribeNotificationsForBudgetCommand).resolves({
      Notifications: [
        { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 80, ThresholdType: "PERCENTAGE" },
        { NotificationType: "ACTUAL", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
        { NotificationType: "FORECASTED", ComparisonOperator: "GREATER_THAN", Threshold: 100, ThresholdType: "PERCENTAGE" },
      ],
    });
    budgets.on(DescribeSubscribersForNotificationCommand).resolves({ Subscribers: [{ SubscriptionType: "EMAIL", Address: "david.herman@gmail.com" }] });
    budgets.on(UpdateBudgetCommand).resolves({});
  });

  test("on a terminal it shows the account and the change from the stack file, and asks; no means nothing sent (exit 1)", async () => {
    const r = await cli(["budget", "create", "--skip-tag-check"], { terminal: true, answer: false });
    expect(r.code).toBe(EXIT.FAILURE);
    expect(r.questions).toEqual([`Make this change in account ${ACCOUNT}?`]);
    expect(r.stderr).toContain(`Haumana-Monthly-Budget in account ${ACCOUNT} (arn:aws:iam::${ACCOUNT}:user/ops), AWS Budgets (us-east-1):`);
    expect(r.stderr).toContain("~ update budget: limit $25.00 → $10.00 (from haumana:budgetLimitUsd in Pulumi.prod.yaml; --limit 25 keeps it)");
    expect(r.stderr).toContain("error: Cancelled: nothing was changed.");
    expect(budgets.commandCalls(UpdateBudgetCommand)).toHaveLength(0);
  });

  test("yes sends the update (exit 0)", async () => {
    const r = await cli(["budget", "create", "--skip-tag-check"], { terminal: true, answer: true });
    expect(r.code).toBe(EXIT.OK);
    expect(budgets.commandCalls(UpdateBudgetCommand).map((c) => c.args[0].input.NewBudget!.BudgetLimit)).toEqual([{ Amount: "10", Unit: "USD" }]);
    expect(r.stdout).toContain("✓ UpdateBudget: update budget: limit $25.00 → $10.00");
  });

  test("--yes does not ask; with no terminal and no --yes it refuses (exit 2)", async () => {
    const yes = await cli(["budget", "create", "--skip-tag-check", "--yes"], { terminal: true });
    expect(yes.code).toBe(EXIT.OK);
    expect(yes.questions).toEqual([]);
    budgets.resetHistory();
    const none = await cli(["budget", "create", "--skip-tag-check"]);
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.questions).toEqual([]);
    expect(none.stderr).toContain("To go ahead, run: haumana-ops budget create --skip-tag-check --yes");
    expect(budgets.commandCalls(UpdateBudgetCommand)).toHaveLength(0);
  });

  test("--limit 25 matches what is stored ('25.0'): nothing to change, nothing asked", async () => {
    const r = await cli(["budget", "create", "--skip-tag-check", "--limit", "25"], { terminal: true });
    expect(r.code).toBe(EXIT.OK);
    expect(r.questions).toEqual([]);
    expect(r.stdout).toBe(`✓ Haumana-Monthly-Budget in account ${ACCOUNT} is up to date: nothing to change.\n`);
  });
});

describe("--json on every command", () => {
  test.each([
    [["tags", "check", "--json"]],
    [["tags", "activate", "--json"]],
    [["budget", "show", "--json"]],
    [["budget", "create", "--dry-run", "--skip-tag-check", "--json"]],
    [["cost", "report", "--month", "2026-10", "--json"]],
    [["--json", "cost", "report", "--month", "2026-10"]],
  ])("%j: stdout is one JSON document", async (args) => {
    ce.on(ListCostAllocationTagsCommand).resolves({ CostAllocationTags: [] });
    ce.on(UpdateCostAllocationTagsStatusCommand).resolves({});
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [] });
    budgets.on(DescribeBudgetCommand).rejects(awsError("NotFoundException", "not found"));
    budgets.on(DescribeNotificationsForBudgetCommand).rejects(awsError("NotFoundException", "not found"));
    const r = await cli(args as string[]);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(typeof JSON.parse(r.stdout)).toBe("object");
  });
});
