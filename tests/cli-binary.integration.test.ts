// The built haumana-ops binary run as a process: help and exit codes, usage
// errors, --json and --dry-run output, missing credentials, and the budget and
// cost commands against moto_server (through tests/helpers/moto-budgets.ts).
import { BudgetsClient, DescribeBudgetCommand } from "@aws-sdk/client-budgets";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startMoto, MotoServer } from "./helpers/moto";
import { BudgetsProxy, resetMoto, seedCostAndUsage, startBudgetsProxy } from "./helpers/moto-budgets";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin/haumana-ops.js");
const ACCOUNT = "123456789012";

let moto: MotoServer;
let proxy: BudgetsProxy;
let tmp: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary without the caller's AWS config; `aws` adds dummy credentials and the moto endpoint. */
function run(args: string[], opts: { aws?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: tmp,
    AWS_CONFIG_FILE: path.join(tmp, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    HAUMANA_LOCAL_DIR: path.join(tmp, "local"),
    ...(opts.aws ? { AWS_ENDPOINT_URL: proxy.endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" } : {}),
    ...opts.env,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: tmp, env, timeout: 20000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.js")], { cwd: ROOT, timeout: 60000 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-ops-"));
  moto = await startMoto();
  proxy = await startBudgetsProxy(moto.endpoint);
});

afterAll(async () => {
  await proxy?.stop();
  await moto?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await resetMoto(moto.endpoint);
  proxy.clear();
});

describe("--help", () => {
  const commands = [[], ["tags"], ["tags", "check"], ["tags", "activate"], ["budget"], ["budget", "create"], ["budget", "show"], ["cost"], ["cost", "report"], ["dev"], ["dev", "token"]];

  test.each(commands.map((c) => [c.join(" ") || "(top level)", c]))("%s: an example of itself and the exit codes, exit 0", async (_name, cmd) => {
    const r = await run([...(cmd as string[]), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: haumana-ops/);
    expect(r.stdout).toContain(`\nExamples:\n  $ haumana-ops ${(cmd as string[]).join(" ")}`.trimEnd());
    expect(r.stdout).toContain("Exit codes:");
    for (const code of [0, 1, 2, 3, 4]) expect(r.stdout).toMatch(new RegExp(`\\n  ${code}  \\w`));
    expect(r.stdout).toMatch(/3 {2}credentials: .*IAM action/);
  });

  test("loads no AWS SDK module (start-up stays fast); a command that calls AWS does", async () => {
    const hook = path.join(tmp, "hook.js");
    const log = path.join(tmp, "loaded.txt");
    fs.writeFileSync(
      hook,
      `const M = require("module"); const fs = require("fs"); const load = M._load; const seen = new Set();
       M._load = function (r, ...a) { if (r.startsWith("@aws-sdk/")) seen.add(r); return load.call(this, r, ...a); };
       process.on("exit", () => fs.writeFileSync(${JSON.stringify(log)}, [...seen].join("\\n")));`,
    );
    const env = { NODE_OPTIONS: `--require ${hook}` };
    expect((await run(["budget", "create", "--help"], { env })).code).toBe(0);
    expect(fs.readFileSync(log, "utf8")).toBe("");
    await run(["budget", "show"], { env });
    expect(fs.readFileSync(log, "utf8")).toContain("@aws-sdk/client-budgets");
  });
});

describe("usage errors exit 2, message on stderr, nothing on stdout", () => {
  test.each([
    [["nope"], /unknown command 'nope'/],
    [["budget", "create", "--bogus"], /unknown option '--bogus'/],
    [["budget", "create", "--limit", "ten"], /--limit .* is invalid/],
    [["budget", "create", "--limit", "-5"], /--limit .* is invalid/],
    [["cost", "report", "--month", "2026-13"], /must be YYYY-MM/],
    [["cost", "report", "--by", "region"], /Allowed choices are service, day/],
    [["dev", "token"], /required option '--sub <id>'/],
    [["budget", "show", "--stack", "nosuch"], /no stack file Pulumi\.nosuch\.yaml \(known stacks: .*prod/],
    [["budget", "create", "--email", "not-an-email", "--dry-run"], /not an email address: not-an-email/],
    [["budget"], /Usage: haumana-ops budget/],
  ])("%j", async (args, message) => {
    const r = await run(args as string[], { aws: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });
});

describe("missing credentials", () => {
  test.each([
    [["budget", "show"]],
    [["budget", "create", "--skip-tag-check", "--json"]],
    [["tags", "check"]],
    [["cost", "report", "--json"]],
  ])("%j: says what to do, exit 3, stdout empty", async (args) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("No usable AWS credentials");
    expect(r.stderr).toContain("aws sso login --profile <name>");
    expect(r.stderr).toContain("AWS_ACCESS_KEY_ID");
    expect(r.stderr).toMatch(/\((sts:GetCallerIdentity|ce:ListCostAllocationTags|ce:GetCostAndUsage)\)/);
    expect(r.stdout).toBe("");
  });
});

describe("AccessDenied from AWS (injected by the proxy in front of moto)", () => {
  test.each([
    [["budget", "show"], "DescribeBudget", "budgets:ViewBudget"],
    [["budget", "create", "--skip-tag-check"], "CreateBudget", "budgets:ModifyBudget"],
    [["cost", "report", "--month", "2026-10", "--json"], "GetCostAndUsage", "ce:GetCostAndUsage"],
  ])("%j: names %s's IAM action, exit 3", async (args, operation, action) => {
    proxy.fail(operation as string, 400, "AccessDeniedException", `User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: ${action}`);
    const r = await run(args as string[], { aws: true });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`Access denied: ${operation} needs the IAM permission ${action}.`);
    expect(r.stderr).toContain(`Grant ${action} to the identity you are using`);
    expect(r.stdout).toBe("");
  });
});

describe("budget against moto", () => {
  const raw = () => new BudgetsClient(moto.clientConfig);

  test("--dry-run --json prints the exact CreateBudget request from Pulumi.prod.yaml, and sends nothing", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--dry-run", "--json"], { aws: true });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ budgetName: "Haumana-Monthly-Budget", accountId: ACCOUNT, dryRun: true, changed: true, tagCheck: "skipped" });
    expect(out.requests).toHaveLength(1);
    const first = new Date();
    expect(out.requests[0].operation).toBe("CreateBudget");
    expect(out.requests[0].input).toEqual({
      AccountId: ACCOUNT,
      Budget: {
        BudgetName: "Haumana-Monthly-Budget",
        BudgetType: "COST",
        TimeUnit: "MONTHLY",
        TimePeriod: { Start: new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)).toISOString() },
        BudgetLimit: { Amount: "10", Unit: "USD" },
        CostFilters: { TagKeyValue: ["user:Project$Haumana"] },
      },
      NotificationsWithSubscribers: [80, 100].map((t) => ["ACTUAL", t]).concat([["FORECASTED", 100]]).map(([type, t]) => ({
        Notification: { NotificationType: type, ComparisonOperator: "GREATER_THAN", Threshold: t, ThresholdType: "PERCENTAGE" },
        Subscribers: [{ SubscriptionType: "EMAIL", Address: "david.herman@gmail.com" }],
      })),
    });
    expect(proxy.requests.map((q) => q.operation)).toEqual(["GetCallerIdentity", "DescribeBudget"]);
    const c = raw();
    await expect(c.send(new DescribeBudgetCommand({ AccountId: ACCOUNT, BudgetName: "Haumana-Monthly-Budget" }))).rejects.toMatchObject({ name: "NotFoundException" });
    c.destroy();
  });

  test("--dry-run in text prints each request and its JSON", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--dry-run", "--limit", "15", "--email", "ops@example.com"], { aws: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Dry run: 1 request(s) would be sent");
    expect(r.stdout).toContain("1. CreateBudget");
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(json.Budget.BudgetLimit).toEqual({ Amount: "15", Unit: "USD" });
    expect(json.NotificationsWithSubscribers[0].Subscribers).toEqual([{ SubscriptionType: "EMAIL", Address: "ops@example.com" }]);
    expect(r.stdout).not.toMatch(/\x1b\[/); // not a TTY: no colour
  });

  test("show on an account without the budget: ✗ and exit 1", async () => {
    const r = await run(["budget", "show"], { aws: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗\s+budget\s+absent/);
  });

  test("create, create again (no changes), show ✓ (exit 0), then a changed limit plans an UpdateBudget", async () => {
    const created = await run(["budget", "create", "--skip-tag-check"], { aws: true });
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("✓ CreateBudget");

    const again = await run(["budget", "create", "--skip-tag-check"], { aws: true });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Haumana-Monthly-Budget is up to date: no changes.");
    expect(again.stderr).toContain("Nothing to change.");

    const shown = await run(["budget", "show"], { aws: true });
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toContain("✗");
    expect(shown.stdout).toMatch(/✓\s+filter\s+TagKeyValue: user:Project\$Haumana/);
    expect(shown.stdout).toContain("Matches the config.");

    const json = await run(["budget", "show", "--json"], { aws: true });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ exists: true, drift: false, accountId: ACCOUNT });
    expect(parsed.checks).toHaveLength(9);

    const more = await run(["budget", "create", "--skip-tag-check", "--limit", "20", "--dry-run", "--json"], { aws: true });
    expect(more.code).toBe(0);
    const plan = JSON.parse(more.stdout);
    expect(plan.requests.map((q: any) => q.operation)).toEqual(["UpdateBudget"]);
    expect(plan.requests[0].input.NewBudget.BudgetLimit).toEqual({ Amount: "20", Unit: "USD" });
  });
});

describe("cost report against moto (a past month: GetCostAndUsage only)", () => {
  beforeEach(async () => {
    const money = (a: string) => ({ UnblendedCost: { Amount: a, Unit: "USD" } });
    const period = { Start: "2026-10-01", End: "2026-11-01" };
    // moto answers the report's two requests in the order they are sent.
    await seedCostAndUsage(moto.endpoint, [
      {
        ResultsByTime: [
          {
            TimePeriod: period,
            Total: {},
            Groups: [
              { Keys: ["AWS Lambda"], Metrics: money("0.60") },
              { Keys: ["Amazon DynamoDB"], Metrics: money("1.20") },
            ],
            Estimated: false,
          },
        ],
      },
      {
        ResultsByTime: [
          {
            TimePeriod: period,
            Total: {},
            Groups: [
              { Keys: ["Project$Haumana"], Metrics: money("1.80") },
              { Keys: ["Project$"], Metrics: money("0.25") },
            ],
            Estimated: false,
          },
        ],
      },
    ]);
  });

  test("--json is pure JSON with the numbers and the request count", async () => {
    const r = await run(["cost", "report", "--month", "2026-10", "--json"], { aws: true });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      month: "2026-10",
      period: { start: "2026-10-01", end: "2026-11-01" },
      project: { total: 1.8, rows: [{ label: "Amazon DynamoDB", amount: 1.2 }, { label: "AWS Lambda", amount: 0.6 }] },
      account: { total: 2.05, projectTagged: 1.8, untagged: 0.25 },
      forecast: { available: false },
      costExplorerRequests: 2,
    });
    expect(proxy.requests.filter((q) => q.operation === "GetCostAndUsage")).toHaveLength(2);
  });

  test("text: a bar chart, the untagged spend and how many requests it made", async () => {
    const r = await run(["cost", "report", "--month", "2026-10"], { aws: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Amazon DynamoDB\s+\$1\.20\s+█{30}\n/);
    expect(r.stdout).toMatch(/AWS Lambda\s+\$0\.60\s+█{15}\n/);
    expect(r.stdout).toMatch(/without a Project tag\s+\$0\.25/);
    expect(r.stdout).toContain("Cost Explorer requests: 2");
    expect(r.stderr).toContain("Made 2 Cost Explorer request(s).");
  });
});

test("dev token prints a token the local issuer signed", async () => {
  const r = await run(["dev", "token", "--sub", "alice", "--email", "alice@example.com"]);
  expect(r.code).toBe(0);
  const token = r.stdout.trim();
  expect(token.split(".")).toHaveLength(3);
  process.env.HAUMANA_LOCAL_DIR = path.join(tmp, "local");
  try {
    const { localJwks, LOCAL_ISSUER, LOCAL_AUDIENCE } = await import("../local/dev-auth");
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const { payload } = await jwtVerify(token, createLocalJWKSet(await localJwks()), { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE });
    expect(payload).toMatchObject({ sub: "alice", email: "alice@example.com" });
  } finally {
    delete process.env.HAUMANA_LOCAL_DIR;
  }
});
