// Starts DynamoDB Local (AWS's own engine, shipped as DynamoDBLocal.jar inside the
// npm package amplify-dynamodb-simulator) on 127.0.0.1, for the local server and
// the tests. Needs Java 17 on PATH.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface DynamoDBLocal {
  endpoint: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Folder for the database file; omitted means in memory. */
  dbPath?: string;
  port?: number;
  /** How long to wait for the engine to accept requests. */
  startTimeoutMs?: number;
}

export function emulatorDir(): string {
  const pkg = require.resolve("amplify-dynamodb-simulator/package.json");
  return path.join(path.dirname(pkg), "emulator");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, output: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`DynamoDB Local did not open port ${port} within ${timeoutMs} ms: ${output()}`);
}

export async function startDynamoDBLocal(opts: StartOptions = {}): Promise<DynamoDBLocal> {
  const dir = emulatorDir();
  const jar = path.join(dir, "DynamoDBLocal.jar");
  if (!fs.existsSync(jar)) throw new Error(`DynamoDBLocal.jar not found at ${jar}`);
  const port = opts.port ?? (await freePort());
  const args = [
    "-Xmx1g",
    `-Djava.library.path=${path.join(dir, "DynamoDBLocal_lib")}`,
    "-jar",
    jar,
    "-port",
    String(port),
    "-sharedDb",
  ];
  if (opts.dbPath) {
    fs.mkdirSync(opts.dbPath, { recursive: true });
    args.push("-dbPath", opts.dbPath);
  } else {
    args.push("-inMemory");
  }
  // DynamoDB Local binds all interfaces; the port is picked free on 127.0.0.1 and
  // every client here talks to 127.0.0.1 only.
  const child = spawn("java", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d) => (out = (out + d).slice(-4000)));
  child.stderr?.on("data", (d) => (out = (out + d).slice(-4000)));
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (e) => reject(new Error(`cannot start java (is Java 17 installed?): ${e.message}`))),
  );
  await Promise.race([waitForPort(port, child, opts.startTimeoutMs ?? 30000, () => out), spawnError]);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}
