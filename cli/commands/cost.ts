// `haumana-ops cost report`: declarations only; the work is in cli/actions/cost.ts.
import { Command, InvalidArgumentError, Option } from "commander";
import { PROJECT_TAG } from "../../lib/tags";
import { costExplorerClient, Sender } from "../aws";
import { Context, stackSettings } from "../context";
import { money } from "../ui";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

function month(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value)) throw new InvalidArgumentError("must be YYYY-MM, e.g. 2026-11");
  return value;
}

export function registerCost(program: Command, ctx: Context) {
  const cost = withExamples(program.command("cost").description("What Haumana costs, from Cost Explorer"), ["cost report"]);

  withExamples(
    cost
      .command("report")
      .summary("the month's cost, forecast and untagged spend")
      .description(
        `The month's cost of ${PROJECT_TAG.key}=${PROJECT_TAG.value} by service or by day (a bar chart), the forecast to ` +
          `month end against the budget, and the account's spend without a ${PROJECT_TAG.key} tag. Cost Explorer ` +
          "charges $0.01 a request: a report makes at most 3 and says how many it made (on stderr), whatever happens. " +
          "When a later request fails, it prints what it has, says what failed, and exits with that failure's code.",
      )
      .option(...STACK_OPTION)
      .option("--month <YYYY-MM>", "the month to report (default: the current UTC month)", month)
      .addOption(new Option("--by <dimension>", "break the cost down by").choices(["service", "day"]).default("service")),
    ["cost report", "cost report --month 2026-11 --by day", "cost report --json"],
  ).action(async (opts: { stack: string; month?: string; by: "service" | "day" }) => {
    const settings = stackSettings(opts.stack);
    const { costReport, renderCostReport, reportWindow, CE_REQUEST_PRICE_USD } = await import("../actions/cost");
    reportWindow(opts.month, new Date()); // a bad --month is a usage error before any request
    noteEndpoint(ctx);
    const client = costExplorerClient();
    let requests = 0;
    // Counted once answered: a request that never reached AWS (no credentials, no network) costs nothing.
    const ce: Sender = {
      send: async (command) => {
        try {
          const out = await client.send(command);
          requests++;
          return out;
        } catch (err) {
          if ((err as any)?.$metadata?.httpStatusCode !== undefined) requests++;
          throw err;
        }
      },
    };
    try {
      const result = await costReport({ ce, spin: ctx.ui.spin.bind(ctx.ui) }, { month: opts.month, by: opts.by, budgetLimitUsd: settings.budgetLimitUsd });
      emit(ctx, undefined, result, renderCostReport);
      for (const f of result.failures) {
        ctx.ui.error(f.message);
        if (f.hint) ctx.ui.info(f.hint);
      }
    } finally {
      ctx.ui.info(`Cost Explorer requests: ${requests} (${money(requests * CE_REQUEST_PRICE_USD)} at ${money(CE_REQUEST_PRICE_USD)} each)`);
    }
  });
}
