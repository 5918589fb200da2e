// The README says what haumana-ops does: the section's exit-code table is the one
// the CLI prints, its options table lists the CLI's global options, and every
// haumana-ops command line the README shows names a command and options that exist.
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import { exitCodesTable } from "../cli/exit-codes";
import { buildProgram } from "../cli/program";
import { Ui } from "../cli/ui";

const readme = fs.readFileSync(path.resolve(__dirname, "../README.md"), "utf8");
const section = readme.slice(readme.indexOf("\n## haumana-ops\n"), readme.indexOf("\n## Performance\n"));
const program = buildProgram({ ui: new Ui({ stdout: { write() {} }, stderr: { write() {} }, env: {} }), setExitCode() {}, globals: {} });

test("the exit-code table is the CLI's", () => {
  const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2]]);
  expect(rows).toEqual(exitCodesTable());
});

test("the options table lists the global options", () => {
  const documented = [...section.matchAll(/^\| `(--[a-z-]+)[^`]*` \|/gm)].map((m) => m[1]).sort();
  const globals = program.options.map((o) => o.long!).filter((l) => l !== "--version").sort();
  expect(documented).toEqual(globals);
});

// Every haumana-ops command line in the README's shell blocks (this section's and "Operating the stack"),
// and in the cutover runbook's (lines continued with a backslash joined).
const runbook = fs.readFileSync(path.resolve(__dirname, "../docs/cutover.md"), "utf8");
const codeBlocks = [...`${readme}\n${runbook}`.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, "")).join("\n");
const lines = [...codeBlocks.matchAll(/^(?:npx )?haumana-ops (.*?)(?:\s+#.*)?$/gm)].map((m) => m[1].trim().split(/\s+/).filter(Boolean));

test("the section shows command lines", () => {
  expect(lines.length).toBeGreaterThanOrEqual(8);
});

test.each(lines.map((words) => [words.join(" "), words]))("`haumana-ops %s` names a command and options that exist", (_line, words) => {
  let cmd: Command = program;
  const rest = [...(words as string[])];
  while (rest.length && !rest[0].startsWith("-")) {
    const sub = cmd.commands.find((c) => c.name() === rest[0]);
    if (!sub) break;
    cmd = sub;
    rest.shift();
  }
  if (cmd.name() === "help") return; // its arguments are command names
  const known = new Set([...cmd.options, ...program.options].flatMap((o) => [o.long, o.short]).filter(Boolean));
  for (const word of rest.filter((w) => w.startsWith("-"))) expect(known).toContain(word);
  expect(cmd.commands.length === 0 || cmd === program).toBe(true); // a whole command, not a group
});
