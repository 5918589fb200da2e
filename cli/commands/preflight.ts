// `haumana-ops preflight`: declaration only; the work is in cli/actions/preflight.ts.
import * as fs from "node:fs";
import { Command } from "commander";
import { regionalClients } from "../aws";
import { Context, stackSettings } from "../context";
import { UsageError } from "../errors";
import { STACK_OPTION, withExamples } from "./help";
import { emit, noteEndpoint } from "./output";

export function registerPreflight(program: Command, ctx: Context) {
  withExamples(
    program
      .command("preflight")
      .summary("check that nothing the stack will create already exists")
      .description(
        "Lists every physical name the Pulumi program will create for the stack (tables, functions, log groups, " +
          "roles, pools, API, custom domain, alarms, topic, dashboard) and looks each up in AWS. Exits 1 naming each one that already exists " +
          "outside this stack and where it lives (which CloudFormation stack, or none). With haumana:adoptRestApiId it " +
          "also checks the API to adopt: present with its prod stage, released by CloudFormation, regional, and " +
          "serving every route the app calls once the route table is deployed. Sends no writes.",
      )
      .option(...STACK_OPTION)
      .option("--state <file>", "`pulumi stack export` output (or - for stdin): resources this stack already holds are not collisions"),
    ["preflight --stack dev", "preflight --stack prod --json", (cli) => `pulumi stack export --stack prod | ${cli} preflight --stack prod --state -`],
  ).action(async (opts: { stack: string; state?: string }) => {
    const settings = stackSettings(opts.stack);
    const { parseStackState, preflight, renderPreflight } = await import("../actions/preflight");
    let state: ReturnType<typeof parseStackState> | undefined;
    if (opts.state) {
      const source = opts.state === "-" ? "stdin" : opts.state;
      let text: string;
      try {
        text = fs.readFileSync(opts.state === "-" ? 0 : opts.state, "utf8");
      } catch (err) {
        throw new UsageError(`cannot read --state ${source}: ${(err as Error).message}`);
      }
      state = parseStackState(text, source);
      ctx.ui.info(ctx.ui.err.dim(`--state: ${state.count} resources in the stack's state`));
    }
    noteEndpoint(ctx);
    const result = await ctx.ui.spin(`Looking up the names of stack ${settings.stack} in ${settings.region}…`, () =>
      preflight(regionalClients(settings.region), { settings, state }),
    );
    emit(ctx, undefined, result, renderPreflight);
  });
}
