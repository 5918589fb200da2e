// `haumana-ops status`: declarations only; the work is in cli/actions/status.ts.
import { Command } from "commander";
import { budgetsClient, cloudWatchClient, cloudWatchLogsClient, costExplorerClient, regionFor, stsClient } from "../aws";
import { Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

export function registerStatus(program: Command, ctx: Context) {
  withExamples(
    program
      .command("status")
      .summary("one screen on a stack: functions, alarms, budget, tags")
      .description(
        "The account, each function's last 24 hours (invocations, errors, throttles) and its logs, every alarm the stack " +
          "should have and its state, the budget and this month's spend, and whether the cost-allocation tags are active. " +
          "Exits 1 when an alarm is in ALARM, an alarm is missing, or a part could not be read.",
      )
      .option(...STACK_OPTION),
    ["status", "status --stack dev --json"],
  ).action(async (opts: { stack: string }) => {
    const settings = stackSettings(opts.stack);
    noteEndpoint(ctx);
    const { stackStatus, renderStatus } = await import("../actions/status");
    const deps = {
      sts: stsClient(regionFor(settings.region)),
      cloudwatch: cloudWatchClient(settings.region),
      logs: cloudWatchLogsClient(settings.region),
      budgets: budgetsClient(),
      ce: costExplorerClient(),
    };
    const result = await ctx.ui.spin("Reading the stack's status…", () => stackStatus(deps, settings));
    emit(ctx, undefined, result, (r, c) => renderStatus(r, c));
  });
}
