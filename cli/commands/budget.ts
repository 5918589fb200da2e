// `haumana-ops budget create|show`: declarations only; the work is in cli/actions/budget.ts.
import { Command, InvalidArgumentError } from "commander";
import { PROJECT_TAG } from "../../lib/tags";
import { budgetsClient, callerIdentity, costExplorerClient, regionFor, stsClient } from "../aws";
import { confirm, Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples, YES_OPTION } from "./help";
import { money } from "../ui";
import { emit, noteEndpoint } from "./output";

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!value.trim() || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a positive number of USD");
  return n;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** --limit and --email mean the same to create and show: what the budget should be, instead of the stack file. */
function configOptions(cmd: Command): Command {
  return cmd
    .option(...STACK_OPTION)
    .option("--limit <usd>", "monthly limit in USD, to the cent (default: haumana:budgetLimitUsd)", positiveNumber)
    .option("--email <address>", "alert email, repeatable (default: haumana:alertEmails)", collect);
}

function budgetDeps(ctx: Context, stackRegion: string) {
  const sts = stsClient(regionFor(stackRegion));
  return {
    budgets: budgetsClient(),
    accountId: () => callerIdentity(sts),
    spin: ctx.ui.spin.bind(ctx.ui),
    projectTagState: async () => {
      const { readTagStatuses } = await import("../actions/tags");
      const tags = await readTagStatuses(costExplorerClient());
      return tags.find((t) => t.key === PROJECT_TAG.key)!.state;
    },
  };
}

const SHARED =
  "There is one Haumana-Monthly-Budget per AWS account, whatever the stack: it tracks every resource tagged " +
  `${PROJECT_TAG.key}=${PROJECT_TAG.value}, which all stacks carry. --stack only picks the Pulumi.<stack>.yaml that supplies the limit and emails.`;

export function registerBudget(program: Command, ctx: Context) {
  const budget = withExamples(
    program.command("budget").description("The Haumana-Monthly-Budget cost budget and its three email alerts (one per account, for every stack)"),
    ["budget create --dry-run", "budget show"],
  );

  withExamples(
    configOptions(
      budget
        .command("create")
        .summary("create or reconcile the budget and its alerts")
        .description(
          "Create or reconcile Haumana-Monthly-Budget: a monthly, recurring COST budget filtered to " +
            `${PROJECT_TAG.key}=${PROJECT_TAG.value}, with email alerts at 80 % actual, 100 % actual and 100 % forecasted. ` +
            "Shows the account and each change, and asks before writing (--yes when there is no terminal). " +
            "Idempotent: a second run changes nothing. Never touches another budget. Refuses while the " +
            `${PROJECT_TAG.key} cost-allocation tag is not active (exit 4), unless --skip-tag-check; --dry-run shows the plan anyway.\n\n` +
            SHARED,
        ),
    )
      .option("--dry-run", "read the budget, print the exact requests it would send, send none")
      .option(...YES_OPTION)
      .option("--skip-tag-check", `do not require ${PROJECT_TAG.key} to be an active cost-allocation tag`),
    [
      "budget create",
      "budget create --dry-run",
      "budget create --limit 25 --email ops@example.com --email me@example.com",
      "budget create --stack dev --yes --json",
    ],
  ).action(async (opts: { stack: string; limit?: number; email?: string[]; dryRun?: boolean; yes?: boolean; skipTagCheck?: boolean }) => {
    const settings = stackSettings(opts.stack);
    const { budgetConfig, createBudget, renderBudgetCreate, renderBudgetPlan, tagNotActive } = await import("../actions/budget");
    const config = budgetConfig(settings, { limit: opts.limit, email: opts.email });
    if (opts.limit !== undefined && config.limitUsd !== opts.limit) {
      ctx.ui.warn(`--limit ${opts.limit} is rounded to ${money(config.limitUsd)}: Budgets keeps whole cents.`);
    }
    noteEndpoint(ctx);
    const result = await createBudget(
      {
        ...budgetDeps(ctx, settings.region),
        confirm: (plan) =>
          confirm(ctx, {
            yes: opts.yes,
            plan: renderBudgetPlan(plan, ctx.ui.err),
            question: `Make ${plan.requests.length === 1 ? "this change" : `these ${plan.requests.length} changes`} in account ${plan.account.account}?`,
          }),
      },
      config,
      { dryRun: opts.dryRun, skipTagCheck: opts.skipTagCheck },
    );
    if (result.tagCheck === "inactive" || result.tagCheck === "not-seen") {
      const why = tagNotActive(result.tagCheck);
      ctx.ui.warn(`${why.message}: without --dry-run this refuses (exit 4). ${why.hint}`);
    }
    emit(ctx, undefined, result, renderBudgetCreate);
  });

  withExamples(
    configOptions(
      budget
        .command("show")
        .summary("the budget against the config, with spend")
        .description(
          "The budget as it is against what the config says (or --limit/--email, as given to budget create), ✓/✗ per item " +
            "(limit, period, filter, each alert and its subscribers), with actual and forecasted spend. Exits 1 on drift or " +
            `when the budget is absent.\n\n${SHARED}`,
        ),
    ),
    ["budget show", "budget show --limit 25 --email ops@example.com", "budget show --stack dev --json"],
  ).action(async (opts: { stack: string; limit?: number; email?: string[] }) => {
    const settings = stackSettings(opts.stack);
    const { budgetConfig, showBudget, renderBudgetShow } = await import("../actions/budget");
    const config = budgetConfig(settings, { limit: opts.limit, email: opts.email });
    noteEndpoint(ctx);
    const result = await showBudget(budgetDeps(ctx, settings.region), config);
    emit(ctx, undefined, result, renderBudgetShow);
  });
}
