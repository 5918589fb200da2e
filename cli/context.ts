// What every command gets: the terminal, the global options (--json, --debug,
// --profile, --region; AWS clients pick the last three up by themselves through
// cli/aws.ts), a way to set the exit code (actions return one; errors are mapped to
// one in cli/program.ts), and `confirm` for commands that change something.
import { readStackSettings, StackConfigError, StackSettings } from "../lib/stack-config";
import { ConfirmationError, InterruptedError, UsageError } from "./errors";
import { ExitCode } from "./exit-codes";
import { rerunCommand } from "./invocation";
import { Ui } from "./ui";

export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
  profile?: string;
  region?: string;
}

export interface Context {
  ui: Ui;
  setExitCode(code: ExitCode): void;
  /** The global options of this run (set before the command's action runs). */
  globals: GlobalOptions;
}

export interface ConfirmRequest {
  /** --yes was given: go ahead without asking. */
  yes?: boolean;
  /** The question, e.g. "Apply these 3 changes to account 123456789012?" */
  question: string;
  /** Shown (stderr) before the question, and in the error when there is no terminal: what would change, and where. */
  plan?: string;
}

/**
 * The one gate in front of every write: goes ahead with --yes; on a terminal shows
 * the plan and asks (default no); with no terminal to ask on it refuses (exit 2)
 * and says to pass --yes. Declining exits 1, Ctrl-C 130; nothing is written either way.
 */
export async function confirm(ctx: Context, req: ConfirmRequest): Promise<void> {
  if (req.yes) return;
  const { ui } = ctx;
  if (!ui.interactive) {
    if (req.plan) ui.info(req.plan);
    throw new ConfirmationError(
      "Nothing was changed: this changes AWS resources, and there is no terminal to ask for confirmation on.",
      "confirmation_required",
      `To go ahead, run: ${rerunCommand("--yes")}`,
    );
  }
  if (req.plan) ui.info(req.plan);
  let ok: boolean;
  try {
    ok = await ui.ask(req.question);
  } catch (err) {
    if ((err as Error)?.name === "ExitPromptError" || (err as Error)?.name === "AbortPromptError") throw new InterruptedError();
    throw err;
  }
  if (!ok) throw new ConfirmationError("Cancelled: nothing was changed.", "declined");
}

export function stackSettings(stack: string): StackSettings {
  try {
    return readStackSettings(stack);
  } catch (err) {
    if (err instanceof StackConfigError) throw new UsageError(err.message);
    throw err;
  }
}
