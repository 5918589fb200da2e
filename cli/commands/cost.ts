// `haumana-ops cost report`: declarations only; the work is in cli/actions/cost.ts.
import { Command, InvalidArgumentError, Option } from "commander";
import { PROJECT_TAG } from "../../lib/tags";
import { costExplorerClient } from "../aws";
import { Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

function month(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError("must be YYYY-MM, e.g. 2026-11");
  return value;
}

export function registerCost(program: Command, ctx: Context) {
  const cost = withExamples(program.command("cost").description("What Haumana costs, from Cost Explorer"), ["haumana-ops cost report"]);

  withExamples(
    cost
      .command("report")
      .summary("the month's cost, forecast and untagged spend")
      .description(
        `The month's cost of ${PROJECT_TAG.key}=${PROJECT_TAG.value} by service or by day (a bar chart), the forecast to ` +
          `month end against the budget, and the account's spend without a ${PROJECT_TAG.key} tag. Cost Explorer ` +
          "charges $0.01 a request: a report makes at most 3 and says how many it made.",
      )
      .option(...STACK_OPTION)
      .option("--month <YYYY-MM>", "the month to report (default: the current UTC month)", month)
      .addOption(new Option("--by <dimension>", "break the cost down by").choices(["service", "day"]).default("service"))
      .option("--json", "print the report as JSON on stdout"),
    ["haumana-ops cost report", "haumana-ops cost report --month 2026-11 --by day", "haumana-ops cost report --json"],
  ).action(async (opts: { stack: string; month?: string; by: "service" | "day"; json?: boolean }) => {
    const settings = stackSettings(opts.stack);
    noteEndpoint(ctx);
    const { costReport, renderCostReport } = await import("../actions/cost");
    const result = await costReport(
      { ce: costExplorerClient(), spin: ctx.ui.spin.bind(ctx.ui) },
      { month: opts.month, by: opts.by, budgetLimitUsd: settings.budgetLimitUsd },
    );
    if (!opts.json) ctx.ui.info(`Made ${result.costExplorerRequests} Cost Explorer request(s).`);
    emit(ctx, opts.json, result, renderCostReport);
  });
}
