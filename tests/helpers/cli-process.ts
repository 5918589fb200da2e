// Runs the built haumana-ops binary as a process, without the caller's AWS
// config: in a scratch HOME, with dummy credentials and AWS_ENDPOINT_URL pointing
// at an emulator when asked. For tests that check exit codes and what goes to
// stdout and stderr.
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as path from "node:path";

export const CLI_BIN = path.resolve(__dirname, "../../bin/haumana-ops.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  /** Scratch directory used as HOME and cwd. */
  home: string;
  /** AWS endpoint (an emulator); with it, dummy credentials are set. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

export function cliEnv(o: CliEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: o.home,
    AWS_CONFIG_FILE: path.join(o.home, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(o.home, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    ...(o.endpoint ? { AWS_ENDPOINT_URL: o.endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" } : {}),
    ...o.env,
  };
}

export function runCli(args: string[], o: CliEnv, timeoutMs = 30_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { cwd: o.home, env: cliEnv(o), timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as any).code === "number" ? (err as any).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
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
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: o.home, env: cliEnv(o), stdio: ["ignore", "pipe", "pipe"] });
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
