// How the user ran haumana-ops, so that every command the CLI prints (help
// examples, "run: ..." hints, error hints) can be pasted back as is: `haumana-ops`
// when it is on PATH (npm link), `npx haumana-ops` under npx, else `node <path to
// bin/haumana-ops.js>`. Flags that pick what a command works on (--stack, --profile,
// --region) are carried into the hints. Set once per run by cli/program.ts.
import * as path from "node:path";

const NAME = "haumana-ops";

let prefix = NAME;
let carried: string[] = [];
let typed: string[] = [];

/** The words that start a pasteable command line, from how this process was started. */
export function detectPrefix(argv1: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (env.npm_lifecycle_event === "npx") return `npx ${NAME}`;
  if (!argv1 || !argv1.includes(path.sep)) return NAME;
  if (path.basename(argv1) === NAME) {
    const dir = path.dirname(argv1);
    const onPath = (env.PATH ?? "").split(path.delimiter).some((d) => d && path.resolve(cwd, d) === dir);
    if (onPath) return NAME;
  }
  const rel = path.relative(cwd, argv1);
  const shown = rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : argv1;
  return `node ${shellQuote(shown)}`;
}

/** `args`: the words the user typed after the program name. */
export function setInvocation(p: string, args: string[] = []): void {
  prefix = p;
  typed = args;
  carried = [];
}

/** Flags to repeat in every hint (e.g. ["--stack", "dev"]); set once the command line is parsed. */
export function setCarriedFlags(carry: string[]): void {
  carried = carry;
}

export function invocationPrefix(): string {
  return prefix;
}

/** A pasteable command line: `cliCommand("budget", "create", "--dry-run")` → "haumana-ops budget create --dry-run --stack dev". */
export function cliCommand(...args: string[]): string {
  return [prefix, ...args.map(shellQuote), ...carried.map(shellQuote)].join(" ");
}

/** The command line the user typed, pasteable, with `extra` words added unless already there (e.g. "--debug"). */
export function rerunCommand(...extra: string[]): string {
  const words = [...typed, ...extra.filter((w) => !typed.includes(w))];
  return [prefix, ...words.map(shellQuote)].join(" ");
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
