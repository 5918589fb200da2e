// Builds the haumana-ops command tree and runs it, mapping every outcome to an
// exit code from cli/exit-codes.ts. Usage errors (commander's) exit 2. The global
// options (--json, --debug, --profile, --region) are declared here once, accepted
// before or after the command, shown in every command's help, and handed to the
// command through the Context and cli/aws.ts before its action runs.
import { Command, CommanderError, Option } from "commander";
import { version } from "../package.json";
import { configureAws } from "./aws";
import { registerBudget } from "./commands/budget";
import { registerCost } from "./commands/cost";
import { registerDev } from "./commands/dev";
import { withExamples } from "./commands/help";
import { registerLogs } from "./commands/logs";
import { registerMigrate } from "./commands/migrate";
import { registerStatus } from "./commands/status";
import { registerPreflight } from "./commands/preflight";
import { registerTags } from "./commands/tags";
import { registerUser } from "./commands/user";
import { Context } from "./context";
import { CliError } from "./errors";
import { EXIT, ExitCode } from "./exit-codes";
import { detectPrefix, rerunCommand, setCarriedFlags, setInvocation } from "./invocation";
import { IO, processIO, Ui } from "./ui";

export const VERSION: string = version;

export function buildProgram(ctx: Context): Command {
  const { ui } = ctx;
  const program = new Command("haumana-ops")
    .description("Ops for the Haumana backend: the stack's status and logs, cost-allocation tags, the monthly budget and its alerts, cost reports, cutover preflight, the migration from the old backend")
    .version(VERSION, "-V, --version", "print the version")
    .option("--json", "print the result as JSON on stdout (messages stay on stderr)")
    .addOption(new Option("--profile <name>", "AWS profile from ~/.aws/config (default: AWS_PROFILE, else the default credential chain)"))
    .addOption(new Option("--region <region>", "region of regional AWS calls (default: the stack's aws:region; Budgets and Cost Explorer are always us-east-1)"))
    .option("--debug", "print each AWS request and response, and stack traces, on stderr")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ui.io.stdout.write(s),
      writeErr: (s) => ui.io.stderr.write(s),
      outputError: (s, write) => write(ui.err.red(s)),
    })
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(add --help for usage)")
    .showSuggestionAfterError(true)
    .helpCommand(false);
  withExamples(program, [
    "status",
    "logs sync-pieces --since 30m",
    "tags check",
    "tags activate",
    "budget create --dry-run",
    "budget show",
    "cost report --by day",
    "preflight --stack prod",
  ]);
  registerTags(program, ctx);
  registerBudget(program, ctx);
  registerCost(program, ctx);
  registerStatus(program, ctx);
  registerLogs(program, ctx);
  registerDev(program, ctx);
  registerPreflight(program, ctx);
  registerUser(program, ctx);
  registerMigrate(program, ctx);

  // `help`, `help budget`, `help budget create`: the help of the deepest command named.
  program
    .command("help")
    .argument("[command...]", "the command to show help for")
    .description("show help for a command")
    .action((names: string[]) => {
      let cmd: Command = program;
      for (const name of names) {
        const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub || sub.name() === "help") {
          cmd.error(`unknown command '${names.join(" ")}'`, { exitCode: EXIT.USAGE, code: "commander.unknownCommand" });
        }
        cmd = sub!;
      }
      cmd.outputHelp();
    });

  program.hook("preAction", (_program, action) => {
    const g = action.optsWithGlobals() as { json?: boolean; debug?: boolean; profile?: string; region?: string; stack?: string };
    ctx.globals = { json: !!g.json, debug: !!g.debug || !!ui.io.env.HAUMANA_OPS_DEBUG, profile: g.profile, region: g.region };
    configureAws({
      profile: g.profile,
      region: g.region,
      ...(ctx.globals.debug ? { debug: (line: string) => ui.info(ui.err.dim(`debug: ${line}`)) } : {}),
    });
    // Hints repeat what picks the target, so they can be pasted as they are.
    const carry: string[] = [];
    if (g.stack && g.stack !== "prod") carry.push("--stack", g.stack);
    if (g.profile) carry.push("--profile", g.profile);
    if (g.region) carry.push("--region", g.region);
    setCarriedFlags(carry);
  });
  return program;
}

/** Runs one command line (argv as process.argv: node, script, ...args) and returns the exit code. */
export async function run(argv: string[], io: IO = processIO()): Promise<ExitCode> {
  const ui = new Ui(io);
  setInvocation(detectPrefix(argv[1], io.env, process.cwd()), argv.slice(2));
  configureAws({});
  let exitCode: ExitCode = EXIT.OK;
  const ctx: Context = { ui, setExitCode: (c) => (exitCode = c), globals: {} };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, help and --version succeed; everything else commander stops on
      // (unknown option, missing argument, a group without its subcommand) is usage.
      return err.code === "commander.version" || err.code === "commander.helpDisplayed" || (err.code === "commander.help" && err.exitCode === 0)
        ? EXIT.OK
        : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      ui.error(err.message);
      if (err.hint) ui.info(err.hint);
      if (ctx.globals.debug && err.stack) ui.info(ui.err.dim(err.stack));
      return err.exitCode;
    }
    // A bug, not a condition we know: say so, and how to see where.
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    ui.error(`unexpected error: ${message}`);
    if (ctx.globals.debug && err instanceof Error) ui.info(err.stack ?? "");
    else ui.info(`For the stack trace: ${rerunCommand("--debug")}`);
    return EXIT.FAILURE;
  }
}

