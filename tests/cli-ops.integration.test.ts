// `haumana-ops logs` and `haumana-ops status`, the built binary run as a process
// against moto_server (CloudWatch Logs, CloudWatch, Budgets, STS) through
// tests/helpers/moto-budgets.ts (which also answers Cost Explorer's
// ListCostAllocationTags, which moto lacks). The stack's log groups, alarms,
// metrics and budget are seeded in moto under the names the program gives them.
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, PutRetentionPolicyCommand } from "@aws-sdk/client-cloudwatch-logs";
import { BudgetsClient, CreateBudgetCommand } from "@aws-sdk/client-budgets";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BUDGET_NAME } from "../cli/actions/budget";
import { alarmNames, logGroups, type LogSource } from "../lib/monitoring";
import { resourceNames } from "../lib/names";
import { readStackSettings } from "../lib/stack-config";
import { runCli, startCli } from "./helpers/cli-process";
import { startMoto, MotoServer } from "./helpers/moto";
import { BudgetsProxy, resetMoto, startBudgetsProxy } from "./helpers/moto-budgets";

jest.setTimeout(120_000);
const ROOT = path.resolve(__dirname, "..");
const ACCOUNT = "123456789012";
/** The prod stack's prefix (the CLI's default stack). */
const PROD = readStackSettings("prod").namePrefix;
const names = resourceNames(PROD);
const GROUPS = logGroups(PROD, names.logGroup);
const PROD_ALARM = (suffix: string) => alarmNames(PROD).find((n) => n.endsWith(`-${suffix}`))!;

let moto: MotoServer;
let proxy: BudgetsProxy;
let home: string;
let logs: CloudWatchLogsClient;
let cw: CloudWatchClient;
const cli = (args: string[]) => runCli(args, { home, endpoint: proxy.endpoint });

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.js")], { cwd: ROOT, timeout: 60_000 });
  home = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-ops-"));
  moto = await startMoto();
  proxy = await startBudgetsProxy(moto.endpoint);
  logs = new CloudWatchLogsClient(moto.clientConfig);
  cw = new CloudWatchClient(moto.clientConfig);
});

afterAll(async () => {
  logs?.destroy();
  cw?.destroy();
  await proxy?.stop();
  await moto?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

beforeEach(async () => {
  await resetMoto(moto.endpoint);
  proxy.clear();
});

const MIN = 60_000;
let streams = 0;
/** "Now" of the lines being seeded, so lines written by separate calls keep their order. */
let seededAt = Date.now();

/** Writes lines to a source's log group (created if needed), each `ago` ms before `seededAt`. */
async function put(source: LogSource, lines: { ago: number; message: string }[]) {
  const logGroupName = GROUPS[source];
  await logs.send(new CreateLogGroupCommand({ logGroupName })).catch((e) => {
    if (e.name !== "ResourceAlreadyExistsException") throw e;
  });
  const logStreamName = `2026/12/01/[$LATEST]${++streams}`;
  await logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
  const logEvents = lines.map((l) => ({ timestamp: seededAt - l.ago, message: l.message })).sort((a, b) => a.timestamp - b.timestamp);
  await logs.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents }));
}

const requestLine = (fields: Record<string, unknown>) => JSON.stringify({ level: "info", msg: "request", time: new Date().toISOString(), ...fields });
const accessLine = (fields: Record<string, unknown>) =>
  JSON.stringify({ requestId: "-", time: "01/Dec/2026:10:00:00 +0000", route: "POST /pieces", status: "200", latencyMs: "45", integrationStatus: "200", ...fields });

async function seedLogs() {
  seededAt = Date.now();
  await put("sync-pieces", [
    { ago: 50 * MIN, message: requestLine({ route: "POST /pieces", requestId: "req-old", status: 200, durationMs: 30 }) },
    { ago: 3 * MIN, message: "START RequestId: 8f0e Version: $LATEST" },
    { ago: 3 * MIN - 1, message: requestLine({ route: "POST /pieces", requestId: "req-1", status: 200, durationMs: 41 }) },
    { ago: 1 * MIN, message: JSON.stringify({ level: "error", msg: "request", route: "POST /pieces", requestId: "req-2", status: 503, errorCode: "write_failed" }) },
  ]);
  await put("sync-sessions", [{ ago: 2 * MIN, message: requestLine({ route: "POST /sessions", requestId: "req-3", status: 200 }) }]);
  await put("access", [
    { ago: 3 * MIN - 2, message: accessLine({ requestId: "req-1" }) },
    { ago: 1 * MIN - 1, message: accessLine({ requestId: "req-2", status: "503", integrationStatus: "200" }) },
  ]);
  // An old line, outside any --since used here.
  await put("auth-sync", [{ ago: 3 * 60 * MIN, message: JSON.stringify({ level: "info", msg: "auth-sync", status: 200, outcome: "unchanged" }) }]);
}

const ndjson = (stdout: string) =>
  stdout
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test.each([["logs"], ["status"]])("%s --help: its examples and the exit codes, exit 0", async (cmd) => {
  const r = await runCli([cmd, "--help"], { home });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`Examples:\n  $ haumana-ops ${cmd}`);
  expect(r.stdout).toMatch(/1 {2}failure: .*alarm in ALARM/);
});

describe("haumana-ops logs", () => {
  test("--json: every source's lines of the last hour, merged, newest last, one JSON object per line", async () => {
    await seedLogs();
    const r = await cli(["logs", "--json"]);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    // API Gateway writes a request's access line after the function's own line.
    expect(events.map((e) => e.source)).toEqual(["sync-pieces", "sync-pieces", "sync-pieces", "access", "sync-sessions", "sync-pieces", "access"]);
    const times = events.map((e) => Date.parse(e.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(events[events.length - 2].json).toMatchObject({ status: 503, requestId: "req-2", errorCode: "write_failed" });
    expect(events[events.length - 1].json).toMatchObject({ status: "503", requestId: "req-2", route: "POST /pieces" });
    expect(events.find((e) => e.message.startsWith("START"))!.json).toBeNull();
    // The authorizer never logged: a warning on stderr, and stdout stays pure JSON.
    expect(r.stderr).toContain(`no log group for authorizer (${GROUPS.authorizer})`);
  });

  test("one source, --since, readable text", async () => {
    await seedLogs();
    const r = await cli(["logs", "sync-pieces", "--since", "30m"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => /^\d{4}-\d{2}-\d{2}T\S+Z sync-pieces /.test(l))).toBe(true);
    expect(lines[1]).toMatch(/info +request route="POST \/pieces" requestId=req-1 status=200 durationMs=41$/);
    expect(lines[2]).toContain("error request");
    expect(lines[2]).toContain("errorCode=write_failed");
    expect(r.stdout).not.toContain("req-old");
  });

  test("--request-id: that request's lines, from the function and the access log", async () => {
    await seedLogs();
    const r = await cli(["logs", "--request-id", "req-2", "--json"]);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout).map((e) => [e.source, e.json.requestId])).toEqual([
      ["sync-pieces", "req-2"],
      ["access", "req-2"],
    ]);
  });

  test("--limit keeps the newest lines and says some were left out", async () => {
    await seedLogs();
    const r = await cli(["logs", "--limit", "2", "--json"]);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout).map((e) => e.json?.requestId)).toEqual(["req-2", "req-2"]);
    expect(r.stderr).toContain("showing the newest 2");
  });

  test("exit codes: 2 for a bad --since or source, 1 when the log group does not exist, 3 without credentials", async () => {
    const badSince = await cli(["logs", "--since", "yesterday"]);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain("--since must be a duration");
    const badSource = await cli(["logs", "sync-everything"]);
    expect(badSource.code).toBe(2);
    expect(badSource.stdout).toBe("");

    const missing = await cli(["logs", "auth-sync", "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toContain(`No log group found for auth-sync (${GROUPS["auth-sync"]})`);

    const noCreds = await runCli(["logs"], { home });
    expect(noCreds.code).toBe(3);
    expect(noCreds.stderr).toContain("logs:FilterLogEvents");
  });

  test("--follow prints the lines that arrive, until stopped (exit 0)", async () => {
    await seedLogs();
    const follow = startCli(["logs", "sync-sessions", "--follow", "--interval", "0.2", "--json"], { home, endpoint: proxy.endpoint });
    try {
      await follow.waitForStdout((out) => out.includes("req-3"));
      seededAt = Date.now();
      await put("sync-sessions", [{ ago: 0, message: requestLine({ route: "POST /sessions", requestId: "req-new", status: 200 }) }]);
      await follow.waitForStdout((out) => out.includes("req-new"));
      expect(await follow.stop("SIGTERM")).toBe(0);
      // Each line printed once, stdout pure NDJSON.
      expect(ndjson(follow.stdout()).map((e) => e.json.requestId)).toEqual(["req-3", "req-new"]);
      expect(follow.stderr()).toContain("Following");
    } finally {
      await follow.stop("SIGKILL");
    }
  });
});

async function seedStack(opts: { alarms?: boolean } = {}) {
  seededAt = Date.now();
  if (opts.alarms !== false) {
    for (const AlarmName of alarmNames(PROD)) {
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName,
          AlarmDescription: `runbook: ${AlarmName}`,
          Namespace: "AWS/Lambda",
          MetricName: "Errors",
          Statistic: "Sum",
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 5,
          ComparisonOperator: "GreaterThanThreshold",
        }),
      );
      await cw.send(new SetAlarmStateCommand({ AlarmName, StateValue: "OK", StateReason: "seeded" }));
    }
  }
  // Another stack's alarm: never listed.
  await cw.send(
    new PutMetricAlarmCommand({ AlarmName: "Haumana-dev-API-5XX", Namespace: "AWS/ApiGateway", MetricName: "5XXError", Statistic: "Sum", Period: 300, EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold" }),
  );
  await cw.send(new SetAlarmStateCommand({ AlarmName: "Haumana-dev-API-5XX", StateValue: "ALARM", StateReason: "dev is noisy" }));
  await put("sync-pieces", [{ ago: 5 * MIN, message: requestLine({ requestId: "r", status: 200 }) }]);
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: GROUPS["sync-pieces"], retentionInDays: 30 }));
  await cw.send(
    new PutMetricDataCommand({
      Namespace: "AWS/Lambda",
      MetricData: [{ MetricName: "Invocations", Dimensions: [{ Name: "FunctionName", Value: names.fn("sync-pieces") }], Value: 42, Timestamp: new Date(Date.now() - 10 * MIN) }],
    }),
  );
  const budgets = new BudgetsClient({ ...moto.clientConfig, region: "us-east-1" });
  await budgets.send(
    new CreateBudgetCommand({
      AccountId: ACCOUNT,
      Budget: { BudgetName: BUDGET_NAME, BudgetType: "COST", TimeUnit: "MONTHLY", BudgetLimit: { Amount: "10", Unit: "USD" } },
    }),
  );
  budgets.destroy();
  proxy.setCostAllocationTags(["Project", "Environment", "CostCenter"].map((TagKey) => ({ TagKey, Status: "Active" as const })));
}

describe("haumana-ops status", () => {
  test("all well: the account, functions, every alarm OK, the budget, active tags; exit 0", async () => {
    await seedStack();
    const r = await cli(["status", "--json"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ stack: "prod", region: "us-west-2", account: { id: ACCOUNT }, inAlarm: [], missingAlarms: [], unreadable: [] });
    expect(s.alarms.map((a: any) => a.name)).toEqual(alarmNames(PROD));
    expect(s.alarms.every((a: any) => a.state === "OK")).toBe(true);
    const pieces = s.functions.find((f: any) => f.name === "sync-pieces");
    expect(pieces).toMatchObject({ functionName: names.fn("sync-pieces"), logGroupExists: true, retentionDays: 30, invocations: 42, errors: 0 });
    expect(Date.now() - Date.parse(pieces.lastLogAt)).toBeLessThan(60 * MIN);
    expect(s.functions.find((f: any) => f.name === "authorizer")).toMatchObject({ logGroupExists: false, lastLogAt: null });
    expect(s.budget).toMatchObject({ name: BUDGET_NAME, exists: true, limit: 10 });
    expect(s.tags.map((t: any) => [t.key, t.state])).toEqual([
      ["Project", "active"],
      ["Environment", "active"],
      ["CostCenter", "active"],
    ]);

    const text = await cli(["status"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`account ${ACCOUNT}`);
    expect(text.stdout).toMatch(/sync-pieces +42 invocations +0 errors/);
    expect(text.stdout).toContain("none in ALARM");
    expect(text.stdout).not.toContain("Haumana-dev");
    expect(text.stdout).toContain("Project=Haumana");
  });

  test("an alarm in ALARM: named on the screen, exit 1", async () => {
    await seedStack();
    await cw.send(new SetAlarmStateCommand({ AlarmName: PROD_ALARM("API-5XX"), StateValue: "ALARM", StateReason: "Threshold Crossed" }));
    const r = await cli(["status"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`✗ +${PROD_ALARM("API-5XX")} +ALARM +since \\d+ s ago +runbook: ${PROD_ALARM("API-5XX")}`));
    const n = alarmNames(PROD).length;
    expect(r.stdout).toContain(`Alarms  ${n}: ${n - 1} OK, 1 in ALARM`);
    const j = await cli(["status", "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).inAlarm).toEqual([PROD_ALARM("API-5XX")]);
  });

  test("a stack without its alarms (not deployed), and a part that cannot be read: shown, exit 1", async () => {
    await seedStack({ alarms: false });
    proxy.fail("ListCostAllocationTags", 400, "AccessDeniedException", "not allowed");
    const r = await cli(["status", "--json"]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.missingAlarms).toEqual(alarmNames(PROD));
    expect(s.unreadable).toEqual(["tags"]);
    expect(s.tags.error).toContain("ce:ListCostAllocationTags");
    expect(s.budget).toMatchObject({ exists: true });
    const text = await cli(["status"]);
    expect(text.stdout).toContain("none of them exists in CloudWatch: deploy the stack (pulumi up)");
    expect(text.stdout).toContain("could not read: Access denied");
  });

  test("no credentials: exit 3 and nothing on stdout", async () => {
    const r = await runCli(["status"], { home });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("sts:GetCallerIdentity");
  });
});
