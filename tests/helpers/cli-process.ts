// Runs the built haumana-ops binary as a process, without the caller's AWS
// config: in a scratch HOME, with dummy credentials and AWS_ENDPOINT_URL pointing
// at an emulator when asked, through a `haumana-ops` link on PATH as `npm link`
// makes one (so the commands it prints read `haumana-ops ...`). For tests that
// check exit codes and what goes to stdout and stderr.
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { BIN, cliEnv as userEnv, linkedBinDir, Run, runCli as run } from "./cli";

export const CLI_BIN = BIN;

export type CliRun = Run;

export interface CliEnv {
  /** Scratch directory used as HOME and cwd. */
  home: string;
  /** AWS endpoint (an emulator); with it, dummy credentials are set. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

/** The `haumana-ops` link on PATH that the runs start. */
function linkedBin(o: CliEnv): string {
  return path.join(linkedBinDir(o.home), "haumana-ops");
}

/** tests/helpers/cli.ts's user environment, with the emulator and its dummy credentials when asked. */
export function cliEnv(o: CliEnv): NodeJS.ProcessEnv {
  return userEnv(o.home, {
    ...(o.endpoint ? { AWS_ENDPOINT_URL: o.endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" } : {}),
    ...o.env,
  });
}

export function runCli(args: string[], o: CliEnv, timeoutMs = 30_000): Promise<CliRun> {
  return run(args, { cwd: o.home, env: cliEnv(o), timeoutMs });
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout satisfies `test`; rejects after `timeoutMs` with what was printed. */
  waitForStdout(test: (out: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a long-running command (logs --follow). */
export function startCli(args: string[], o: CliEnv): RunningCli {
  const child = spawn(process.execPath, [linkedBin(o), ...args], { cwd: o.home, env: cliEnv(o), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // A test that fails half-way must not leave it running.
  const hardStop = setTimeout(() => child.kill("SIGKILL"), 90_000);
  exited.then(() => clearTimeout(hardStop));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStdout: (test, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        const check = () => {
          if (test(out)) return resolve(out);
          if (child.exitCode !== null) return reject(new Error(`exited ${child.exitCode}\nstdout:\n${out}\nstderr:\n${err}`));
          if (Date.now() > deadline) return reject(new Error(`timed out\nstdout:\n${out}\nstderr:\n${err}`));
          setTimeout(check, 50);
        };
        check();
      }),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
