// `haumana-ops tags check|activate`: declarations only; the work is in cli/actions/tags.ts.
import { Command } from "commander";
import { stackTags, TAG_KEYS } from "../../lib/tags";
import { costExplorerClient } from "../aws";
import { Context, stackSettings } from "../context";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

export function registerTags(program: Command, ctx: Context) {
  const tags = withExamples(
    program.command("tags").description(`Cost-allocation tags of the tag set (${TAG_KEYS.join(", ")})`),
    ["tags check", "tags activate --stack dev"],
  );

  withExamples(
    tags
      .command("check")
      .summary("whether each tag is an active cost-allocation tag")
      .description(
        "Whether each tag key is an active cost-allocation tag, inactive, or not yet seen by billing " +
          "(tags appear up to 24 h after resources carry them). Exits 4 unless all are active, as every command does " +
          "that finds one of them not active.",
      )
      .option(...STACK_OPTION),
    ["tags check", "tags check --stack dev --json"],
  ).action(async (opts: { stack: string }) => {
    const values = stackTags(stackSettings(opts.stack));
    noteEndpoint(ctx);
    const { checkTags, renderTagsCheck } = await import("../actions/tags");
    const result = await ctx.ui.spin("Cost Explorer: listing cost-allocation tags…", () => checkTags({ ce: costExplorerClient() }, values));
    emit(ctx, undefined, result, renderTagsCheck);
  });

  withExamples(
    tags
      .command("activate")
      .summary("activate the inactive tags")
      .description(
        "Activate the inactive tag keys as cost-allocation tags. A key billing has not seen yet cannot be " +
          "activated: it says so and when to try again (exit 4).",
      )
      .option(...STACK_OPTION),
    ["tags activate", "tags activate --json"],
  ).action(async (opts: { stack: string }) => {
    const values = stackTags(stackSettings(opts.stack));
    noteEndpoint(ctx);
    const { activateTags, renderTagsActivate } = await import("../actions/tags");
    const result = await ctx.ui.spin("Cost Explorer: activating cost-allocation tags…", () => activateTags({ ce: costExplorerClient() }, values));
    emit(ctx, undefined, result, renderTagsActivate);
  });
}
