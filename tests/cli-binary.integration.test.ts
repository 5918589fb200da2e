// The built haumana-ops binary run as a process: help, --version and exit codes,
// usage errors, --json output, missing credentials, tags and cost report against
// moto_server (through tests/helpers/moto-budgets.ts, which answers the Cost
// Explorer calls moto lacks as AWS would), and dev token.
import * as fs from "node:fs";
import * as path from "node:path";
import { EXIT } from "../cli/exit-codes";
import { BIN, MOTO_ACCOUNT, ROOT, runCli, useMotoCli } from "./helpers/cli";
import { seedCostAndUsage } from "./helpers/moto-budgets";
import { version } from "../package.json";

const cli = useMotoCli();
const run = cli.run;

describe("--help", () => {
  const commands = [[], ["tags"], ["tags", "check"], ["tags", "activate"], ["budget"], ["budget", "create"], ["budget", "show"], ["cost"], ["cost", "report"], ["dev"], ["dev", "token"]];

  test.each(commands.map((c) => [c.join(" ") || "(top level)", c]))("%s: an example of itself, the global options and the exit codes, exit 0", async (_name, cmd) => {
    const r = await run([...(cmd as string[]), "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: haumana-ops/);
    expect(r.stdout).toContain(`\nExamples:\n  $ haumana-ops ${(cmd as string[]).join(" ")}`.trimEnd());
    for (const option of ["--json", "--profile <name>", "--region <region>", "--debug"]) expect(r.stdout).toContain(option);
    expect(r.stdout).toContain("Exit codes:");
    for (const code of [0, 1, 2, 3, 4, 130]) expect(r.stdout).toMatch(new RegExp(`\\n  ${code}  \\w`));
    expect(r.stdout).toMatch(/3 {2}credentials: .*IAM action/);
    expect(r.stderr).toBe("");
  });

  test("loads no AWS SDK module (start-up stays fast); a command that calls AWS does", async () => {
    const hook = path.join(cli.tmp, "hook.js");
    const log = path.join(cli.tmp, "loaded.txt");
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

describe("--version and help", () => {
  test.each([["--version"], ["-V"]])("%s prints package.json's version on stdout, exit 0", async (flag) => {
    const r = await run([flag]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  test.each([
    [["help"], /^Usage: haumana-ops \[options\] \[command\]/],
    [["help", "budget"], /^Usage: haumana-ops budget \[options\] \[command\]/],
    [["help", "budget", "create"], /^Usage: haumana-ops budget create \[options\]/],
    [["help", "cost", "report"], /^Usage: haumana-ops cost report \[options\]/],
    [["budget", "help", "show"], /^Usage: haumana-ops budget show \[options\]/],
  ])("%j shows that command's page on stdout, exit 0", async (args, usage) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(usage);
    expect(r.stderr).toBe("");
  });

  test("help for a command that does not exist is a usage error (exit 2)", async () => {
    const r = await run(["help", "budget", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'budget nope'");
    expect(r.stdout).toBe("");
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
    [[], /Usage: haumana-ops \[options\]/],
  ])("%j", async (args, message) => {
    const r = await run(args as string[], { aws: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe("");
  });
});

describe("a stack file that cannot be read is a usage error naming the file (exit 2)", () => {
  // The CLI reads Pulumi.<stack>.yaml beside its package; a copy of the bundle in a
  // scratch folder reads the scratch folder's, leaving the real ones alone.
  let root: string;
  let bin: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(cli.tmp, "repo-"));
    fs.mkdirSync(path.join(root, "dist"));
    fs.copyFileSync(path.join(ROOT, "dist/haumana-ops.js"), path.join(root, "dist/haumana-ops.js"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
    fs.copyFileSync(path.join(ROOT, "Pulumi.prod.yaml"), path.join(root, "Pulumi.prod.yaml"));
    fs.writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  aws:region: us-west-2\n  haumana:budgetLimitUsd: [10\n");
    fs.writeFileSync(path.join(root, "Pulumi.list.yaml"), "- just\n- a list\n");
    bin = path.join(root, "dist/haumana-ops.js");
  });

  test.each([
    ["broken", /cannot read the stack file .*\/Pulumi\.broken\.yaml: .*line 4/],
    ["list", /cannot read the stack file .*\/Pulumi\.list\.yaml: its top level must be a map/],
  ])("--stack %s", async (stack, message) => {
    for (const args of [["budget", "show"], ["tags", "check"], ["cost", "report"], ["budget", "create", "--dry-run"]]) {
      const r = await runCli([...args, "--stack", stack], { cwd: cli.tmp, env: cli.env({ aws: true }), bin });
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(path.join(root, `Pulumi.${stack}.yaml`));
      expect(r.stdout).toBe("");
    }
    expect(cli.proxy.requests).toEqual([]);
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
    expect(r.stderr).toContain("aws sso login --profile NAME");
    expect(r.stderr).toContain("AWS_ACCESS_KEY_ID");
    expect(r.stderr).toMatch(/\((sts:GetCallerIdentity|ce:ListCostAllocationTags|ce:GetCostAndUsage)\)/);
    expect(r.stdout).toBe("");
  });
});

describe("AccessDenied from AWS (injected by the proxy in front of moto)", () => {
  test.each([
    [["budget", "show"], "DescribeBudget", "budgets:ViewBudget"],
    [["budget", "create", "--skip-tag-check", "--yes"], "CreateBudget", "budgets:ModifyBudget"],
    [["cost", "report", "--month", "2026-10", "--json"], "GetCostAndUsage", "ce:GetCostAndUsage"],
  ])("%j: names %s's IAM action, exit 3", async (args, operation, action) => {
    cli.proxy.fail(operation as string, 400, "AccessDeniedException", `User: arn:aws:iam::${MOTO_ACCOUNT}:user/ci is not authorized to perform: ${action}`);
    const r = await run(args as string[], { aws: true });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`Access denied: ${operation} needs the IAM permission ${action}.`);
    expect(r.stderr).toContain(`Grant ${action} to the identity you are using`);
    expect(r.stdout).toBe("");
  });
});

describe("tags: a tag that is not active exits 4 from every command", () => {
  const listed = (...tags: [string, "Active" | "Inactive"][]) => ({
    CostAllocationTags: tags.map(([TagKey, Status]) => ({ TagKey, Type: "UserDefined", Status, LastUsedDate: "2026-11-30T00:00:00Z" })),
  });

  test("CostCenter not yet seen by billing: tags check and tags activate both exit 4", async () => {
    cli.proxy.answer("ListCostAllocationTags", listed(["Project", "Active"], ["Environment", "Active"]));
    cli.proxy.answer("UpdateCostAllocationTagsStatus", { Errors: [] });
    const check = await run(["tags", "check"], { aws: true });
    expect(check.code).toBe(EXIT.PRECONDITION);
    expect(check.stdout).toMatch(/✗\s+CostCenter=Haumana\s+not yet seen by billing/);
    const activate = await run(["tags", "activate"], { aws: true });
    expect(activate.code).toBe(EXIT.PRECONDITION);
    expect(activate.stdout).toMatch(/✗\s+CostCenter=Haumana\s+not yet seen by billing: cannot be activated yet/);
    // Nothing inactive, so nothing to activate.
    expect(cli.proxy.requests.map((q) => q.operation)).toEqual(["ListCostAllocationTags", "ListCostAllocationTags"]);
  });

  test("Environment inactive: tags check exits 4 and says how to fix it; activate activates it (exit 0)", async () => {
    cli.proxy.answer("ListCostAllocationTags", listed(["Project", "Active"], ["Environment", "Inactive"], ["CostCenter", "Active"]));
    cli.proxy.answer("UpdateCostAllocationTagsStatus", { Errors: [] });
    const check = await run(["tags", "check", "--json"], { aws: true });
    expect(check.code).toBe(EXIT.PRECONDITION);
    expect(JSON.parse(check.stdout)).toMatchObject({ allActive: false, tags: [{ key: "Project", state: "active" }, { key: "Environment", state: "inactive" }, { key: "CostCenter", state: "active" }] });
    const text = await run(["tags", "check"], { aws: true });
    expect(text.stdout).toMatch(/✗\s+Environment=Production\s+inactive\n/);
    expect(text.stdout).toContain("\nActivate the inactive ones: haumana-ops tags activate\n");
    const activate = await run(["tags", "activate"], { aws: true });
    expect(activate.code).toBe(EXIT.OK);
    expect(cli.proxy.requests.filter((q) => q.operation === "UpdateCostAllocationTagsStatus").map((q) => q.body)).toEqual([
      { CostAllocationTagsStatus: [{ TagKey: "Environment", Status: "Active" }] },
    ]);
  });
});

describe("cost report against moto", () => {
  const money = (a: string) => ({ UnblendedCost: { Amount: a, Unit: "USD" } });
  const results = (start: string, end: string) => [
    {
      ResultsByTime: [
        {
          TimePeriod: { Start: start, End: end },
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
          TimePeriod: { Start: start, End: end },
          Total: {},
          Groups: [
            { Keys: ["Project$Haumana"], Metrics: money("1.80") },
            { Keys: ["Project$"], Metrics: money("0.25") },
          ],
          Estimated: false,
        },
      ],
    },
  ];

  describe("a past month: GetCostAndUsage only", () => {
    // moto answers the report's two requests in the order they are sent.
    beforeEach(() => seedCostAndUsage(cli.moto.endpoint, results("2026-10-01", "2026-11-01")));

    test("--json is pure JSON with the numbers and the request count; the count is on stderr too", async () => {
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
        failures: [],
      });
      expect(cli.proxy.requests.filter((q) => q.operation === "GetCostAndUsage")).toHaveLength(2);
      expect(r.stderr).toContain("Cost Explorer requests: 2 ($0.02 at $0.01 each)");
    });

    test("text: a bar chart, the untagged spend; how many requests it made, once, on stderr", async () => {
      const r = await run(["cost", "report", "--month", "2026-10"], { aws: true });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Amazon DynamoDB\s+\$1\.20\s+█{30}\n/);
      expect(r.stdout).toMatch(/AWS Lambda\s+\$0\.60\s+█{15}\n/);
      expect(r.stdout).toMatch(/without a Project tag\s+\$0\.25/);
      expect(r.stdout).not.toMatch(/request/i);
      expect(r.stderr.match(/Cost Explorer requests: 2 \(\$0\.02 at \$0\.01 each\)/g)).toHaveLength(1);
    });
  });

  describe("the current month (moto has no GetCostForecast: the proxy answers or fails it)", () => {
    const now = new Date();
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const start = day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)));
    const end = day(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)));
    const lastDay = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate() === now.getUTCDate();
    beforeEach(() => seedCostAndUsage(cli.moto.endpoint, results(start, end)));

    (lastDay ? test.skip : test)("a failed forecast keeps the two answers already paid for, says what failed, counts 3 requests, exit 1", async () => {
      cli.proxy.fail("GetCostForecast", 400, "ValidationException", "Forecasts need a start date of today or later");
      const r = await run(["cost", "report"], { aws: true });
      expect(r.code).toBe(EXIT.FAILURE);
      expect(r.stdout).toMatch(/Amazon DynamoDB\s+\$1\.20/);
      expect(r.stdout).toMatch(/without a Project tag\s+\$0\.25/);
      expect(r.stdout).toContain("Forecast: not available (GetCostForecast failed (see below)); budget $10.00");
      expect(r.stderr).toContain("error: GetCostForecast failed: ValidationException: Forecasts need a start date of today or later");
      expect(r.stderr).toContain("Cost Explorer requests: 3 ($0.03 at $0.01 each)");
      expect(cli.proxy.requests.map((q) => q.operation)).toEqual(["GetCostAndUsage", "GetCostAndUsage", "GetCostForecast"]);

      const json = await run(["cost", "report", "--json"], { aws: true });
      expect(json.code).toBe(EXIT.FAILURE);
      expect(JSON.parse(json.stdout)).toMatchObject({
        project: { total: 1.8 },
        account: { untagged: 0.25 },
        forecast: { available: false },
        failures: [{ operation: "GetCostForecast", code: "aws_error", exitCode: 1 }],
        costExplorerRequests: 3,
      });
    });

    test.each([
      // month-end total, budget 10: the marker sits at the budget's column of the 40-cell scale
      ["254 %: the bar runs past the marker at column 16", "23.60", 16, 40],
      ["51 %: the bar stops at column 20, the marker at the end", "3.30", 40, 20],
    ])("forecast chart, %s", async (_name, remaining, markerColumn, blocks) => {
      if (lastDay) return; // nothing left to forecast on the last day of the month
      cli.proxy.answer("GetCostForecast", { Total: { Amount: remaining, Unit: "USD" }, ForecastResultsByTime: [] });
      const r = await run(["cost", "report"], { aws: true });
      expect(r.code).toBe(0);
      const lines = r.stdout.split("\n");
      const i = lines.findIndex((l) => l.startsWith("Forecast to month end:"));
      const chart = lines[i + 1].slice(2);
      expect(chart.indexOf("│")).toBe(markerColumn);
      expect((chart.match(/█/g) ?? []).length).toBe(blocks);
      expect(lines[i + 2].indexOf("└ budget $10.00")).toBe(markerColumn + 2);
    });
  });
});

describe("dev token", () => {
  const verify = async (token: string) => {
    process.env.HAUMANA_LOCAL_DIR = path.join(cli.tmp, "local");
    try {
      const { localJwks, LOCAL_ISSUER, LOCAL_AUDIENCE } = await import("../local/dev-auth");
      const { createLocalJWKSet, jwtVerify } = await import("jose");
      return (await jwtVerify(token, createLocalJWKSet(await localJwks()), { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE })).payload;
    } finally {
      delete process.env.HAUMANA_LOCAL_DIR;
    }
  };

  test("prints a token the local issuer signed, alone on stdout", async () => {
    const r = await run(["dev", "token", "--sub", "alice", "--email", "alice@example.com"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split(".")).toHaveLength(3);
    expect(await verify(r.stdout.trim())).toMatchObject({ sub: "alice", email: "alice@example.com" });
  });

  test("--json: the token with its subject, issuer, audience and expiry", async () => {
    const r = await run(["dev", "token", "--sub", "alice", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ sub: "alice", issuer: "https://haumana.local", audience: "haumana-local" });
    const payload = await verify(out.token);
    expect(new Date(out.expiresAt).getTime()).toBe(payload.exp! * 1000);
  });
});

test("bin/haumana-ops.js is executable and starts with a node shebang (npm link and ./bin/haumana-ops.js work)", () => {
  expect(fs.statSync(BIN).mode & 0o111).not.toBe(0);
  expect(fs.readFileSync(BIN, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
});
