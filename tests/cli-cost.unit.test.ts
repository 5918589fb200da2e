// cost report against a mocked Cost Explorer (moto has no GetCostForecast): the
// exact requests, never more than 3, and the numbers the report derives.
import { CostExplorerClient, DataUnavailableException, GetCostAndUsageCommand, GetCostForecastCommand } from "@aws-sdk/client-cost-explorer";
import { mockClient } from "aws-sdk-client-mock";
import { costReport, renderCostReport } from "../cli/actions/cost";
import { UsageError } from "../cli/errors";
import { colours } from "../cli/ui";

const ce = mockClient(CostExplorerClient);
const plain = colours(false);
const FILTER = { Tags: { Key: "Project", Values: ["Haumana"], MatchOptions: ["EQUALS"] } };
const money = (a: number) => ({ UnblendedCost: { Amount: String(a), Unit: "USD" } });

const byService = {
  ResultsByTime: [
    {
      TimePeriod: { Start: "2026-12-01", End: "2026-12-16" },
      Total: {},
      Groups: [
        { Keys: ["Amazon DynamoDB"], Metrics: money(0.42) },
        { Keys: ["AWS Lambda"], Metrics: money(1.5) },
        { Keys: ["Amazon API Gateway"], Metrics: money(0.08) },
      ],
      Estimated: true,
    },
  ],
};
const byTag = {
  ResultsByTime: [
    {
      TimePeriod: { Start: "2026-12-01", End: "2026-12-16" },
      Groups: [
        { Keys: ["Project$Haumana"], Metrics: money(2) },
        { Keys: ["Project$"], Metrics: money(0.75) },
        { Keys: ["Project$Other"], Metrics: money(5) },
      ],
    },
  ],
};

function deps(now: string) {
  return { ce: new CostExplorerClient({ region: "us-east-1" }), now: () => new Date(now) };
}
const requests = () => ce.calls().map((c) => [(c.args[0] as any).constructor.name.replace(/Command$/, ""), c.args[0].input]);

beforeEach(() => {
  ce.reset();
  ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] })
    .resolves(byService)
    .on(GetCostAndUsageCommand, { GroupBy: [{ Type: "TAG", Key: "Project" }] })
    .resolves(byTag);
  ce.on(GetCostForecastCommand).resolves({ Total: { Amount: "3.1", Unit: "USD" } });
});

test("current month: exactly three requests, with the windows and filter spelled out", async () => {
  const r = await costReport(deps("2026-12-15T10:00:00Z"), { budgetLimitUsd: 10 });
  expect(requests()).toEqual([
    [
      "GetCostAndUsage",
      {
        TimePeriod: { Start: "2026-12-01", End: "2026-12-16" },
        Granularity: "MONTHLY",
        Metrics: ["UnblendedCost"],
        Filter: FILTER,
        GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }],
      },
    ],
    ["GetCostAndUsage", { TimePeriod: { Start: "2026-12-01", End: "2026-12-16" }, Granularity: "MONTHLY", Metrics: ["UnblendedCost"], GroupBy: [{ Type: "TAG", Key: "Project" }] }],
    ["GetCostForecast", { TimePeriod: { Start: "2026-12-16", End: "2027-01-01" }, Metric: "UNBLENDED_COST", Granularity: "MONTHLY", Filter: FILTER }],
  ]);
  expect(r.costExplorerRequests).toBe(3);
  expect(r.project.rows).toEqual([
    { label: "AWS Lambda", amount: 1.5 },
    { label: "Amazon DynamoDB", amount: 0.42 },
    { label: "Amazon API Gateway", amount: 0.08 },
  ]);
  expect(r.project.total).toBe(2);
  expect(r.project.estimated).toBe(true);
  expect(r.forecast).toEqual({ available: true, remaining: 3.1, monthEnd: 5.1, budget: 10, percentOfBudget: 51, overBudget: false });
  expect(r.account).toEqual({ total: 7.75, projectTagged: 2, untagged: 0.75, otherProjects: [{ label: "Other", amount: 5 }] });

  const text = renderCostReport(r, plain);
  expect(text).toContain("Cost of Project=Haumana, 2026-12");
  const lines = text.split("\n");
  const lambda = lines.find((l) => l.includes("AWS Lambda"))!;
  const dynamo = lines.find((l) => l.includes("Amazon DynamoDB"))!;
  // The largest cost gets the full 30-cell bar; the others in proportion.
  expect(lambda).toContain("$1.50");
  expect((lambda.match(/█/g) ?? []).length).toBe(30);
  expect((dynamo.match(/█/g) ?? []).length).toBe(8);
  expect(lines.indexOf(lambda)).toBeLessThan(lines.indexOf(dynamo));
  expect(text).toContain("Forecast to month end: $5.10 of the $10.00 budget (51 %), within budget");
  expect(text).toMatch(/without a Project tag\s+\$0\.75/);
  expect(r.failures).toEqual([]);
});

test("a past month: two requests, the whole month, no forecast", async () => {
  const r = await costReport(deps("2026-12-15T10:00:00Z"), { month: "2026-10", budgetLimitUsd: 10 });
  expect(requests().map(([op, input]) => [op, input.TimePeriod])).toEqual([
    ["GetCostAndUsage", { Start: "2026-10-01", End: "2026-11-01" }],
    ["GetCostAndUsage", { Start: "2026-10-01", End: "2026-11-01" }],
  ]);
  expect(r.costExplorerRequests).toBe(2);
  expect(r.forecast).toEqual({ available: false, reason: "a past month has no forecast", budget: 10 });
  expect(renderCostReport(r, plain)).toContain("Forecast: not available (a past month has no forecast); budget $10.00");
});

test("--by day asks for daily totals and charts one bar per day", async () => {
  ce.on(GetCostAndUsageCommand, { Granularity: "DAILY" }).resolves({
    ResultsByTime: [
      { TimePeriod: { Start: "2026-12-01", End: "2026-12-02" }, Total: money(0.1) },
      { TimePeriod: { Start: "2026-12-02", End: "2026-12-03" }, Total: money(0.4) },
    ],
  });
  const r = await costReport(deps("2026-12-02T23:00:00Z"), { by: "day", budgetLimitUsd: 10 });
  expect(requests()[0]).toEqual([
    "GetCostAndUsage",
    { TimePeriod: { Start: "2026-12-01", End: "2026-12-03" }, Granularity: "DAILY", Metrics: ["UnblendedCost"], Filter: FILTER },
  ]);
  expect(r.project.rows).toEqual([
    { label: "2026-12-01", amount: 0.1 },
    { label: "2026-12-02", amount: 0.4 },
  ]);
  expect(r.project.total).toBe(0.5);
  expect(r.costExplorerRequests).toBe(3);
});

test("too little history to forecast: says so, still counts the request", async () => {
  ce.on(GetCostForecastCommand).rejects(new DataUnavailableException({ message: "Insufficient amount of historical data", $metadata: {} }));
  const r = await costReport(deps("2026-12-15T10:00:00Z"), { budgetLimitUsd: 10 });
  expect(r.forecast).toEqual({ available: false, reason: "Cost Explorer has too little cost history to forecast yet", budget: 10 });
  expect(r.costExplorerRequests).toBe(3);
});

test("a next page is not followed (at most 3 requests) and the report says it is truncated", async () => {
  ce.on(GetCostAndUsageCommand, { GroupBy: [{ Type: "DIMENSION", Key: "SERVICE" }] }).resolves({ ...byService, NextPageToken: "more" });
  const r = await costReport(deps("2026-12-15T10:00:00Z"), { budgetLimitUsd: 10 });
  expect(ce.calls()).toHaveLength(3);
  expect(r.truncated).toBe(true);
  expect(renderCostReport(r, plain)).toContain("truncated");
});

test("the last day of the month needs no forecast: two requests, month end = spend so far", async () => {
  const r = await costReport(deps("2026-12-31T20:00:00Z"), { budgetLimitUsd: 1.5 });
  expect(requests().map(([op, i]) => [op, i.TimePeriod])).toEqual([
    ["GetCostAndUsage", { Start: "2026-12-01", End: "2027-01-01" }],
    ["GetCostAndUsage", { Start: "2026-12-01", End: "2027-01-01" }],
  ]);
  expect(r.forecast).toMatchObject({ available: true, remaining: 0, monthEnd: 2, overBudget: true });
  expect(renderCostReport(r, plain)).toContain("over budget");
});

test("a future or malformed month is a usage error and sends nothing", async () => {
  await expect(costReport(deps("2026-12-15T10:00:00Z"), { month: "2027-01", budgetLimitUsd: 10 })).rejects.toBeInstanceOf(UsageError);
  await expect(costReport(deps("2026-12-15T10:00:00Z"), { month: "2026-13", budgetLimitUsd: 10 })).rejects.toBeInstanceOf(UsageError);
  expect(ce.calls()).toHaveLength(0);
});
