// What every command gets: the terminal, and a way to set the process exit code
// (actions return one; errors are mapped to one in cli/program.ts).
import { readStackSettings, StackConfigError, StackSettings } from "../lib/stack-config";
import { UsageError } from "./errors";
import { ExitCode } from "./exit-codes";
import { Ui } from "./ui";

export interface Context {
  ui: Ui;
  setExitCode(code: ExitCode): void;
}

export function stackSettings(stack: string): StackSettings {
  try {
    return readStackSettings(stack);
  } catch (err) {
    if (err instanceof StackConfigError) throw new UsageError(err.message);
    throw err;
  }
}
