// Runs the built haumana-ops as a user would: as a process with pipes, or in a
// pseudo-terminal (util-linux `script`) whose output is rendered by a real terminal
// emulator (@xterm/headless), so a test can read the screen a person would be left
// with. The environment is a clean one: no AWS config of the caller, and no
// AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED (jest's global setup sets it for
// the in-process suites), so any SDK warning the CLI would print shows up.
import { ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "../..");
export const BIN = path.join(ROOT, "bin/haumana-ops.js");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function buildCli(): void {
  execFileSync(process.execPath, [path.join(ROOT, "scripts/build.js")], { cwd: ROOT, timeout: 120000 });
}

/** A directory holding `haumana-ops` → bin/haumana-ops.js, as `npm link` makes one; put it on PATH. */
export function linkedBinDir(tmp: string): string {
  const dir = path.join(tmp, "linked-bin");
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, "haumana-ops");
  if (!fs.existsSync(link)) fs.symlinkSync(BIN, link);
  return dir;
}

/** The environment of a user with no AWS config, `haumana-ops` on PATH (npm link) and `home` as HOME. */
export function cliEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: `${linkedBinDir(home)}${path.delimiter}${process.env.PATH}`,
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    HAUMANA_LOCAL_DIR: path.join(home, "local"),
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Runs a command line through /bin/sh, as pasting it into a shell would. */
export function runShell(line: string, opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", line], { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 30000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `haumana-ops args...` the way a linked install runs it (through the PATH symlink). */
export function runCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; bin?: string; timeoutMs?: number }): Promise<Run> {
  const bin = opts.bin ?? path.join(linkedBinDir(opts.env.HOME!), "haumana-ops");
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 30000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface TerminalRun {
  code: number | null;
  /** Everything written to the terminal, escape sequences included. */
  raw: string;
  /** The screen (and scrollback) as the user is left with it: one string per line (rows the terminal wrapped are joined), empty rows at the end dropped. */
  screen: string[];
}

export interface TerminalStep {
  /** Once the screen output so far matches this... */
  when: RegExp;
  /** ...type this (e.g. "y\r", or "\x03" for Ctrl-C). */
  send: string;
}

/**
 * Runs `haumana-ops args...` in a pseudo-terminal of `cols` x `rows` (stdin, stdout
 * and stderr are all the terminal), typing each step's keys when its prompt shows.
 */
export async function runInTerminal(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; cols?: number; rows?: number; steps?: TerminalStep[]; timeoutMs?: number },
): Promise<TerminalRun> {
  const cols = opts.cols ?? 100;
  const rows = opts.rows ?? 40;
  const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${cols} rows ${rows}; exec haumana-ops ${args.map(quote).join(" ")}`;
  const child: ChildProcess = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: opts.cwd,
    env: { TERM: "xterm-256color", ...opts.env, SHELL: "/bin/sh" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let raw = "";
  const steps = [...(opts.steps ?? [])];
  let seen = 0;
  child.stdout!.on("data", (d: Buffer) => {
    raw += d.toString("utf8");
    // Each step answers output that appeared after the previous step's.
    while (steps.length && steps[0].when.test(raw.slice(seen))) {
      seen = raw.length;
      child.stdin!.write(steps.shift()!.send);
    }
  });
  child.stderr!.on("data", (d: Buffer) => (raw += d.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30000);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  child.stdin!.end();
  return { code, raw, screen: await render(raw, cols, rows) };
}

/** Plays terminal output into a headless xterm and reads the screen back. */
export async function render(raw: string, cols: number, rows: number): Promise<string[]> {
  const { Terminal } = require("@xterm/headless") as typeof import("@xterm/headless");
  const term = new Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
  await new Promise<void>((resolve) => term.write(raw, resolve));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    const text = line?.translateToString(true) ?? "";
    // A line the terminal wrapped continues the one above: keep logical lines whole.
    if (line?.isWrapped && lines.length) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  term.dispose();
  return lines;
}

export const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

export interface MotoCli {
  /** A fresh HOME for the runs (no AWS config), with `haumana-ops` linked on PATH. */
  tmp: string;
  moto: import("./moto").MotoServer;
  proxy: import("./moto-budgets").BudgetsProxy;
  /** The environment of a run; `aws` adds moto's endpoint (through the proxy) and dummy credentials. */
  env(opts?: { aws?: boolean; extra?: NodeJS.ProcessEnv }): NodeJS.ProcessEnv;
  /** `haumana-ops args...` as a process, from `tmp`. */
  run(args: string[], opts?: { aws?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; bin?: string }): Promise<Run>;
}

export const MOTO_ACCOUNT = "123456789012";
/** Dummy keys for moto; distinctive, so a test can check they never reach the output. */
export const TEST_KEYS = { AWS_ACCESS_KEY_ID: "AKIDTESTONLY", AWS_SECRET_ACCESS_KEY: "test-secret-never-printed" };

/**
 * Builds the CLI, starts moto_server and the Budgets proxy in front of it for the
 * file, and empties both before each test.
 */
export function useMotoCli(): MotoCli {
  const { startMoto } = require("./moto") as typeof import("./moto");
  const { resetMoto, startBudgetsProxy } = require("./moto-budgets") as typeof import("./moto-budgets");
  const h = {} as MotoCli;
  beforeAll(async () => {
    buildCli();
    h.tmp = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "haumana-ops-"));
    h.moto = await startMoto();
    h.proxy = await startBudgetsProxy(h.moto.endpoint);
  });
  afterAll(async () => {
    await h.proxy?.stop();
    await h.moto?.stop();
    if (h.tmp) fs.rmSync(h.tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetMoto(h.moto.endpoint);
    h.proxy.clear();
  });
  h.env = (opts = {}) => cliEnv(h.tmp, { ...(opts.aws ? { AWS_ENDPOINT_URL: h.proxy.endpoint, ...TEST_KEYS } : {}), ...opts.extra });
  h.run = (args, opts = {}) => runCli(args, { cwd: opts.cwd ?? h.tmp, env: { ...h.env({ aws: opts.aws }), ...opts.env }, bin: opts.bin });
  return h;
}
