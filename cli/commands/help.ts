// The help footer every command shares: its examples, then the exit codes.
import { Command } from "commander";
import { exitCodesHelp } from "../exit-codes";

export function withExamples(cmd: Command, examples: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${examples.map((e) => `  $ ${e}`).join("\n")}\n\n${exitCodesHelp()}\n`);
}

export const STACK_OPTION = ["--stack <name>", "Pulumi stack whose Pulumi.<stack>.yaml supplies tags, limit and emails", "prod"] as const;
