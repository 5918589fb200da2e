// Builds the haumana-ops command tree and runs it, mapping every outcome to an
// exit code from cli/exit-codes.ts. Usage errors (commander's) exit 2.
import { Command, CommanderError } from "commander";
import { registerBudget } from "./commands/budget";
import { registerCost } from "./commands/cost";
import { registerDev } from "./commands/dev";
import { withExamples } from "./commands/help";
import { registerLogs } from "./commands/logs";
import { registerStatus } from "./commands/status";
import { registerTags } from "./commands/tags";
import { Context } from "./context";
import { CliError } from "./errors";
import { EXIT, ExitCode } from "./exit-codes";
import { IO, processIO, Ui } from "./ui";

export function buildProgram(ctx: Context): Command {
  const { ui } = ctx;
  const program = new Command("haumana-ops")
    .description("Ops for the Haumana backend: the stack's status and logs, cost-allocation tags, the monthly budget and its alerts, cost reports")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ui.io.stdout.write(s),
      writeErr: (s) => ui.io.stderr.write(s),
      outputError: (s, write) => write(ui.err.red(s)),
    })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true);
  withExamples(program, [
    "haumana-ops status",
    "haumana-ops logs sync-pieces --since 30m",
    "haumana-ops tags check",
    "haumana-ops tags activate",
    "haumana-ops budget create --dry-run",
    "haumana-ops budget show",
    "haumana-ops cost report --by day",
  ]);
  registerTags(program, ctx);
  registerBudget(program, ctx);
  registerCost(program, ctx);
  registerStatus(program, ctx);
  registerLogs(program, ctx);
  registerDev(program, ctx);
  return program;
}

/** Runs one command line (argv as process.argv: node, script, ...args) and returns the exit code. */
export async function run(argv: string[], io: IO = processIO()): Promise<ExitCode> {
  const ui = new Ui(io);
  let exitCode: ExitCode = EXIT.OK;
  const program = buildProgram({ ui, setExitCode: (c) => (exitCode = c) });
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Explicit --help / --version succeed; everything else commander stops on
      // (unknown option, missing argument, a group without its subcommand) is usage.
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      ui.error(err.message);
      if (err.hint) ui.info(err.hint);
      return err.exitCode;
    }
    ui.error(err instanceof Error ? err.message : String(err));
    if (io.env.HAUMANA_OPS_DEBUG && err instanceof Error) ui.info(err.stack ?? "");
    return EXIT.FAILURE;
  }
}
