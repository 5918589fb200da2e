// `haumana-ops budget create|show`: declarations only; the work is in cli/actions/budget.ts.
import { Command, InvalidArgumentError } from "commander";
import { PROJECT_TAG } from "../../lib/tags";
import { budgetsClient, callerAccountId, costExplorerClient, stsClient } from "../aws";
import { Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of USD");
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function budgetDeps(ctx: Context) {
  const sts = stsClient();
  return {
    budgets: budgetsClient(),
    accountId: () => callerAccountId(sts),
    spin: ctx.ui.spin.bind(ctx.ui),
    projectTagState: async () => {
      const { readTagStatuses } = await import("../actions/tags");
      const tags = await readTagStatuses(costExplorerClient());
      return tags.find((t) => t.key === PROJECT_TAG.key)!.state;
    },
  };
}

export function registerBudget(program: Command, ctx: Context) {
  const budget = withExamples(program.command("budget").description("The Haumana-Monthly-Budget cost budget and its three email alerts"), [
    "haumana-ops budget create --dry-run",
    "haumana-ops budget show",
  ]);

  withExamples(
    budget
      .command("create")
      .summary("create or reconcile the budget and its alerts")
      .description(
        "Create or reconcile Haumana-Monthly-Budget: a monthly, recurring COST budget filtered to " +
          `${PROJECT_TAG.key}=${PROJECT_TAG.value}, with email alerts at 80 % actual, 100 % actual and 100 % forecasted. ` +
          "Idempotent: a second run changes nothing. Never touches another budget. Refuses while the " +
          `${PROJECT_TAG.key} cost-allocation tag is not active (exit 4), unless --skip-tag-check.`,
      )
      .option(...STACK_OPTION)
      .option("--limit <usd>", "monthly limit in USD (default: haumana:budgetLimitUsd)", positiveNumber)
      .option("--email <address>", "alert email, repeatable (default: haumana:alertEmails)", collect)
      .option("--dry-run", "read the budget, print the exact requests it would send, send none")
      .option("--json", "print the result as JSON on stdout")
      .option("--skip-tag-check", `do not require ${PROJECT_TAG.key} to be an active cost-allocation tag`),
    [
      "haumana-ops budget create",
      "haumana-ops budget create --dry-run",
      "haumana-ops budget create --limit 25 --email ops@example.com --email me@example.com",
      "haumana-ops budget create --stack dev --json",
    ],
  ).action(async (opts: { stack: string; limit?: number; email?: string[]; dryRun?: boolean; json?: boolean; skipTagCheck?: boolean }) => {
    const settings = stackSettings(opts.stack);
    const { budgetConfig, createBudget, renderBudgetCreate } = await import("../actions/budget");
    const config = budgetConfig(settings, { limit: opts.limit, email: opts.email });
    noteEndpoint(ctx);
    const result = await createBudget(budgetDeps(ctx), config, { dryRun: opts.dryRun, skipTagCheck: opts.skipTagCheck });
    if (!opts.json && !result.changed && !opts.dryRun) ctx.ui.info("Nothing to change.");
    emit(ctx, opts.json, result, renderBudgetCreate);
  });

  withExamples(
    budget
      .command("show")
      .summary("the budget against the config, with spend")
      .description(
        "The budget as it is against what the config says, ✓/✗ per item (limit, period, filter, each alert " +
          "and its subscribers), with actual and forecasted spend. Exits 1 on drift or when the budget is absent.",
      )
      .option(...STACK_OPTION)
      .option("--json", "print the result as JSON on stdout"),
    ["haumana-ops budget show", "haumana-ops budget show --stack dev --json"],
  ).action(async (opts: { stack: string; json?: boolean }) => {
    const settings = stackSettings(opts.stack);
    const { budgetConfig, showBudget, renderBudgetShow } = await import("../actions/budget");
    const config = budgetConfig(settings);
    noteEndpoint(ctx);
    const result = await showBudget(budgetDeps(ctx), config);
    emit(ctx, opts.json, result, renderBudgetShow);
  });
}
