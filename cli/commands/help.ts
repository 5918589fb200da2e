// What every command's declaration shares: the help footer (its examples, written
// the way this CLI was started so they paste as they are, then the exit codes) and
// the options that mean the same everywhere.
import { Command } from "commander";
import { exitCodesHelp } from "../exit-codes";
import { invocationPrefix } from "../invocation";

/** An example: the words after the program name, or a whole line built from the program's prefix. */
export type Example = string | ((cli: string) => string);

export function withExamples(cmd: Command, examples: Example[]): Command {
  return cmd.addHelpText("after", () => {
    const cli = invocationPrefix();
    const lines = examples.map((e) => `  $ ${typeof e === "function" ? e(cli) : `${cli} ${e}`}`);
    return `\nExamples:\n${lines.join("\n")}\n\n${exitCodesHelp()}\n`;
  });
}

export const STACK_OPTION = ["--stack <name>", "Pulumi stack whose Pulumi.<stack>.yaml supplies tags, limit and emails", "prod"] as const;

/** For every command that changes something; pass `opts.yes` to confirm() (cli/context.ts). */
export const YES_OPTION = ["-y, --yes", "make the changes without asking (needed when there is no terminal to ask on)"] as const;
