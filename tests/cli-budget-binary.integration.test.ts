// `budget create` and `budget show` as a user runs them: the built binary as a
// process against moto_server (Budgets, STS) through the proxy of
// tests/helpers/moto-budgets.ts, with no terminal (the confirmation tests with one
// are in cli-terminal.integration.test.ts). Checks stdout, stderr, exit codes and
// what went over the wire; and that every command the CLI prints can be pasted
// into a shell as it is.
import { BudgetsClient, DescribeBudgetCommand } from "@aws-sdk/client-budgets";
import { EXIT } from "../cli/exit-codes";
import { BIN, MOTO_ACCOUNT, ROOT, runCli, runShell, useMotoCli } from "./helpers/cli";

const cli = useMotoCli();
const run = cli.run;
const BUDGET = "Haumana-Monthly-Budget";
const writes = () => cli.proxy.requests.map((q) => q.operation).filter((op) => !/^(Describe|GetCallerIdentity|ListCostAllocationTags)/.test(op));
const storedLimit = async () => {
  const c = new BudgetsClient(cli.moto.clientConfig);
  try {
    return (await c.send(new DescribeBudgetCommand({ AccountId: MOTO_ACCOUNT, BudgetName: BUDGET }))).Budget!.BudgetLimit;
  } finally {
    c.destroy();
  }
};

describe("--dry-run", () => {
  test("--json prints the exact CreateBudget request from Pulumi.prod.yaml, and sends nothing", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--dry-run", "--json"], { aws: true });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ budgetName: BUDGET, accountId: MOTO_ACCOUNT, dryRun: true, changed: true, tagCheck: "skipped" });
    expect(out.requests).toHaveLength(1);
    const first = new Date();
    expect(out.requests[0].operation).toBe("CreateBudget");
    expect(out.requests[0].input).toEqual({
      AccountId: MOTO_ACCOUNT,
      Budget: {
        BudgetName: BUDGET,
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
    // Reads only. (moto answers DescribeNotificationsForBudget of a missing budget with a 500, which the SDK retries; AWS says NotFound.)
    expect([...new Set(cli.proxy.requests.map((q) => q.operation))].sort()).toEqual(["DescribeBudget", "DescribeNotificationsForBudget", "GetCallerIdentity"]);
    expect(await storedLimit().catch((e) => e.name)).toBe("NotFoundException");
  });

  test("in text: the account, each request and its JSON, no colour into a pipe", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--dry-run", "--limit", "15", "--email", "ops@example.com"], { aws: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Dry run for account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto): 1 request would be sent to AWS Budgets (us-east-1); none was sent.`);
    expect(r.stdout).toContain("1. CreateBudget");
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")));
    expect(json.Budget.BudgetLimit).toEqual({ Amount: "15", Unit: "USD" });
    expect(json.NotificationsWithSubscribers[0].Subscribers).toEqual([{ SubscriptionType: "EMAIL", Address: "ops@example.com" }]);
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(writes()).toEqual([]);
  });

  test.each([
    ["inactive", [{ TagKey: "Project", Type: "UserDefined", Status: "Inactive" }], /Project is inactive/],
    ["not yet seen", [], /Project is not yet seen by billing/],
  ])("while Project is %s the plan can still be previewed (exit 0, a warning); a real run refuses (exit 4)", async (_state, tags, why) => {
    cli.proxy.answer("ListCostAllocationTags", { CostAllocationTags: tags });
    const dry = await run(["budget", "create", "--dry-run"], { aws: true });
    expect(dry.code).toBe(EXIT.OK);
    expect(dry.stdout).toContain("1. CreateBudget");
    expect(dry.stderr).toMatch(why);
    expect(dry.stderr).toContain("without --dry-run this refuses (exit 4)");
    expect(dry.stderr).toContain("haumana-ops tags activate");
    const json = await run(["budget", "create", "--dry-run", "--json"], { aws: true });
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, tagCheck: tags.length ? "inactive" : "not-seen" });

    const real = await run(["budget", "create", "--yes"], { aws: true });
    expect(real.code).toBe(EXIT.PRECONDITION);
    expect(real.stderr).toMatch(/Refusing to create the budget/);
    expect(writes()).toEqual([]);
  });
});

describe("limits are whole cents", () => {
  test("--limit 10.004 is 10.00: the second run changes nothing and sends no write", async () => {
    const first = await run(["budget", "create", "--skip-tag-check", "--limit", "10.004", "--yes"], { aws: true });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("--limit 10.004 is rounded to $10.00: Budgets keeps whole cents.");
    expect(await storedLimit()).toMatchObject({ Amount: "10" });
    cli.proxy.requests.length = 0;

    const second = await run(["budget", "create", "--skip-tag-check", "--limit", "10.004", "--yes"], { aws: true });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`✓ ${BUDGET} in account ${MOTO_ACCOUNT} is up to date: nothing to change.\n`);
    expect(writes()).toEqual([]);

    const shown = await run(["budget", "show", "--limit", "10.004"], { aws: true });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/✓\s+limit\s+\$10\.00/);
  });

  test.each([["0.001"], ["0.004"]])("--limit %s rounds to nothing: refused before any request (exit 2)", async (limit) => {
    for (const args of [["budget", "create", "--skip-tag-check", "--dry-run"], ["budget", "create", "--skip-tag-check", "--yes"], ["budget", "show"]]) {
      const r = await run([...args, "--limit", limit], { aws: true });
      expect(r.code).toBe(EXIT.USAGE);
      expect(r.stderr).toContain(`the budget limit ${limit} (--limit) rounds to $0.00: Budgets keeps whole cents, so the smallest limit is $0.01`);
      expect(r.stdout).toBe("");
    }
    expect(cli.proxy.requests).toEqual([]);
  });
});

describe("writes need a yes", () => {
  test("with no terminal and no --yes: shows the plan and the account, writes nothing, says how to go ahead (exit 2)", async () => {
    const r = await run(["budget", "create", "--skip-tag-check"], { aws: true });
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${BUDGET} in account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto), AWS Budgets (us-east-1):`);
    expect(r.stderr).toMatch(/\+ create budget Haumana-Monthly-Budget: \$10\.00 a month/);
    expect(r.stderr).toContain("there is no terminal to ask for confirmation on");
    expect(r.stderr).toContain("To go ahead, run: haumana-ops budget create --skip-tag-check --yes");
    expect(writes()).toEqual([]);
    expect(await storedLimit().catch((e) => e.name)).toBe("NotFoundException");
  });

  test("--yes writes, and says which account it wrote to", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ CreateBudget: create budget Haumana-Monthly-Budget: $10.00 a month");
    expect(r.stdout).toContain(`${BUDGET} in account ${MOTO_ACCOUNT} (arn:aws:sts::${MOTO_ACCOUNT}:user/moto): 1 change made.`);
    expect(writes()).toEqual(["CreateBudget"]);
  });

  test("a plain run after --limit/--email overrides does not undo them silently: the plan names each value's source", async () => {
    expect((await run(["budget", "create", "--skip-tag-check", "--limit", "25", "--email", "ops@example.com", "--yes"], { aws: true })).code).toBe(0);
    cli.proxy.requests.length = 0;

    const plain = await run(["budget", "create", "--skip-tag-check"], { aws: true });
    expect(plain.code).toBe(EXIT.USAGE);
    expect(plain.stderr).toContain("~ update budget: limit $25.00 → $10.00 (from haumana:budgetLimitUsd in Pulumi.prod.yaml; --limit 25 keeps it)");
    expect(plain.stderr).toContain("- remove ops@example.com from alert actual > 80% (not in haumana:alertEmails in Pulumi.prod.yaml)");
    expect(plain.stderr).toContain("+ add david.herman@gmail.com to alert actual > 80%");
    expect(writes()).toEqual([]);

    // show takes the same overrides: against them, nothing has drifted.
    const same = await run(["budget", "show", "--limit", "25", "--email", "ops@example.com"], { aws: true });
    expect(same.code).toBe(0);
    expect(same.stdout).not.toContain("✗");
    expect(same.stdout).toContain("Matches the config.");
    // Against the stack file: the limit, and on each alert one missing and one extra subscriber.
    const file = await run(["budget", "show", "--json"], { aws: true });
    expect(file.code).toBe(EXIT.FAILURE);
    expect(JSON.parse(file.stdout).checks.filter((c: any) => !c.ok).map((c: any) => c.item.trim())).toEqual([
      "limit",
      ...Array(3).fill(["email david.herman@gmail.com", "email ops@example.com"]).flat(),
    ]);
  });

  test("--dry-run needs no --yes", async () => {
    const r = await run(["budget", "create", "--skip-tag-check", "--dry-run"], { aws: true });
    expect(r.code).toBe(0);
    expect(writes()).toEqual([]);
  });
});

describe("create, create again, show", () => {
  test("a second run sends no writes and says so once; show is ✓ (exit 0); money is written one way", async () => {
    const created = await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true });
    expect(created.code).toBe(0);
    cli.proxy.requests.length = 0;

    const again = await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true });
    expect(again.code).toBe(0);
    expect(writes()).toEqual([]);
    const said = `${again.stdout}\n${again.stderr}`.split("\n");
    expect(said.filter((l) => /nothing to change|no changes|up to date/i.test(l))).toEqual([`✓ ${BUDGET} in account ${MOTO_ACCOUNT} is up to date: nothing to change.`]);

    const shown = await run(["budget", "show"], { aws: true });
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toContain("✗");
    expect(shown.stdout).toMatch(/✓\s+limit\s+\$10\.00\n/);
    expect(shown.stdout).toMatch(/✓\s+filter\s+TagKeyValue: user:Project\$Haumana/);
    expect(shown.stdout).toMatch(/Actual spend this month: +\$0\.00 \(0 % of the \$10\.00 limit\)/);
    expect(shown.stdout).toContain("Matches the config.");
    for (const text of [created.stdout, again.stdout, shown.stdout]) expect(text).not.toMatch(/\d USD\b/);

    const json = await run(["budget", "show", "--json"], { aws: true });
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ exists: true, drift: false, accountId: MOTO_ACCOUNT, fix: null });
    expect(parsed.checks).toHaveLength(9);

    const more = await run(["budget", "create", "--skip-tag-check", "--limit", "20", "--dry-run", "--json"], { aws: true });
    expect(more.code).toBe(0);
    const plan = JSON.parse(more.stdout);
    expect(plan.requests.map((q: any) => q.operation)).toEqual(["UpdateBudget"]);
    expect(plan.requests[0].input.NewBudget.BudgetLimit).toEqual({ Amount: "20", Unit: "USD" });
    expect(plan.requests[0].summary).toBe("update budget: limit $10.00 → $20.00 (from --limit)");
  });

  test("show on an account without the budget: ✗, the command that creates it, exit 1", async () => {
    const r = await run(["budget", "show"], { aws: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗\s+budget\s+absent/);
    expect(r.stdout).toContain("No budget yet. Create it: haumana-ops budget create");
  });

  test("show asks for the budget and its notifications together, then every alert's subscribers together", async () => {
    expect((await run(["budget", "create", "--skip-tag-check", "--yes"], { aws: true })).code).toBe(0);
    // Each gate opens only when all its requests wait at once: one-by-one reads would time out.
    const both = cli.proxy.gate(["DescribeBudget", "DescribeNotificationsForBudget"], 2);
    const subscribers = cli.proxy.gate(["DescribeSubscribersForNotification"], 3);
    const r = await run(["budget", "show"], { aws: true });
    expect(r.stderr).not.toContain("gate timed out");
    expect(r.code).toBe(0);
    expect(both.opened).toBe(true);
    expect(subscribers.opened).toBe(true);
  });

  test("the budget is one per account for every stack, and help and the plan say so", async () => {
    for (const args of [["budget", "--help"], ["budget", "create", "--help"], ["budget", "show", "--help"]]) {
      const r = await run(args);
      expect(r.stdout.replace(/\s+/g, " ")).toMatch(/one (Haumana-Monthly-Budget|per account)/i);
    }
    const create = await run(["budget", "create", "--help"]);
    expect(create.stdout.replace(/\s+/g, " ")).toContain(
      "There is one Haumana-Monthly-Budget per AWS account, whatever the stack: it tracks every resource tagged Project=Haumana, which all stacks carry.",
    );
    const plan = await run(["budget", "create", "--skip-tag-check", "--stack", "dev"], { aws: true });
    expect(plan.stderr).toContain("One budget per account: it tracks the spend of every stack there (all carry Project=Haumana); the values above come from haumana:budgetLimitUsd in Pulumi.dev.yaml and haumana:alertEmails in Pulumi.dev.yaml.");
  });
});

describe("every command the CLI prints can be pasted as it is", () => {
  /** The command after `label` in `text` (to the end of its line). */
  const hint = (text: string, label: string) => {
    const line = text.split("\n").find((l) => l.includes(label));
    expect(line).toBeDefined();
    return line!.slice(line!.indexOf(label) + label.length).trim();
  };

  test.each([
    ["npm link (haumana-ops on PATH)", "haumana-ops", (args: string[]) => run(args, { aws: true, cwd: cli.tmp }), () => cli.tmp],
    ["node bin/haumana-ops.js from the repo", "node bin/haumana-ops.js", (args: string[]) => runCli(args, { cwd: ROOT, env: cli.env({ aws: true }), bin: BIN }), () => ROOT],
  ])("run via %s: the hints start with `%s`, carry --stack, and pasting them works", async (_how, prefix, runIt, cwd) => {
    cli.proxy.answer("ListCostAllocationTags", { CostAllocationTags: [] }); // billing has seen no tag yet
    const shown = await runIt(["budget", "show", "--stack", "dev"]);
    expect(shown.code).toBe(1);
    const create = hint(shown.stdout, "Create it: ");
    expect(create).toBe(`${prefix} budget create --stack dev`);

    // Pasted: no terminal here, so it shows the plan and says how to go ahead.
    const pasted = await runShell(create, { cwd: cwd(), env: cli.env({ aws: true }) });
    expect(pasted.code).toBe(EXIT.PRECONDITION); // the tag check comes first
    const activate = hint(pasted.stderr, "then run: ");
    expect(activate).toBe(`${prefix} tags activate --stack dev`);
    const activated = await runShell(activate, { cwd: cwd(), env: cli.env({ aws: true }) });
    expect(activated.code).toBe(EXIT.PRECONDITION); // still not seen: it says when to try again
    expect(hint(activated.stdout, "run again: ")).toBe(`${prefix} tags activate --stack dev`);

    const skip = await runShell(`${create} --skip-tag-check`, { cwd: cwd(), env: cli.env({ aws: true }) });
    expect(skip.code).toBe(EXIT.USAGE);
    const goAhead = hint(skip.stderr, "To go ahead, run: ");
    expect(goAhead).toBe(`${prefix} budget create --stack dev --skip-tag-check --yes`);
    const done = await runShell(goAhead, { cwd: cwd(), env: cli.env({ aws: true }) });
    expect(done.code).toBe(0);
    expect(writes()).toEqual(["CreateBudget"]);

    // After a failure, the --debug hint is the same command line with --debug.
    const closed = await runShell(`${prefix} budget show --stack dev`, { cwd: cwd(), env: cli.env({ aws: true, extra: { AWS_ENDPOINT_URL: "http://127.0.0.1:9" } }) });
    expect(closed.code).toBe(EXIT.FAILURE);
    const debug = hint(closed.stderr, "To see each request and response: ");
    expect(debug).toBe(`${prefix} budget show --stack dev --debug`);
    const withDebug = await runShell(debug, { cwd: cwd(), env: cli.env({ aws: true, extra: { AWS_ENDPOINT_URL: "http://127.0.0.1:9" } }) });
    expect(withDebug.stderr).toContain("debug: → #1 STS GetCallerIdentity: POST http://127.0.0.1:9/");
  });

  test("under npx the hints say npx haumana-ops", async () => {
    const r = await runShell("npx --no-install haumana-ops budget show --stack dev", { cwd: ROOT, env: { ...cli.env({ aws: true }), npm_config_update_notifier: "false" }, timeoutMs: 60000 });
    expect(r.code).toBe(1);
    expect(hint(r.stdout, "Create it: ")).toBe("npx haumana-ops budget create --stack dev");
    const help = await runShell("npx --no-install haumana-ops budget --help", { cwd: ROOT, env: cli.env(), timeoutMs: 60000 });
    expect(help.stdout).toContain("\n  $ npx haumana-ops budget create --dry-run\n");
  });
});
