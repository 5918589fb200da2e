// A moto_server (AWS API emulator) on 127.0.0.1: the test suites that need Cognito,
// Cost Explorer, Budgets or STS start their own, and the local server uses one for
// Cognito when moto_server is installed.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { freePort } from "./dynamodb-local";

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Region and dummy credentials for SDK clients pointed at it. */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    maxAttempts: number;
  };
  stop(): Promise<void>;
}

export function motoBinary(): string {
  const candidates = [process.env.MOTO_SERVER, "/root/.pyenv/shims/moto_server"].filter(Boolean) as string[];
  return candidates.find((c) => fs.existsSync(c)) ?? "moto_server";
}

/** Whether a moto_server can be started here (named by MOTO_SERVER, or on PATH). */
export function motoAvailable(): boolean {
  const bin = motoBinary();
  if (bin.includes("/")) return fs.existsSync(bin);
  return (process.env.PATH ?? "").split(":").some((d) => d && fs.existsSync(`${d}/${bin}`));
}

export async function startMoto(opts: { startTimeoutMs?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(motoBinary(), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
  child.once("error", (e) => (stderr += `\ncannot start ${motoBinary()}: ${e.message}`));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const hard = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(hard);
    }
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  for (;;) {
    if (child.exitCode !== null || /cannot start/.test(stderr)) throw new Error(`moto_server exited early: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not start on ${endpoint}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    endpoint,
    port,
    clientConfig: {
      endpoint,
      region: "us-west-2",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
      maxAttempts: 1,
    },
    stop,
  };
}
