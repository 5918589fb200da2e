// The deployed code of each function, exactly as the Pulumi program hands it to
// the engine, run alone in a fresh Node process (from a directory where no
// node_modules can be found) with the environment the program gives it. Shared by
// the packaging tests (tests/infra/packaging.unit.test.ts) and the real-request
// test on DynamoDB Local (tests/infra/packaging-request.integration.test.ts).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { resourceNames, type FunctionName } from "../../lib/names";
import { readStackSettings } from "../../lib/stack-config";
import { runStack, type StackRun } from "./harness";

const RUNNER = `
const fs = require("node:fs");
const out = (v) => fs.writeSync(3, JSON.stringify(v));
let mod;
try { mod = require("./index.js"); } catch (e) { out({ loaded: false, error: String(e && e.message) }); process.exit(0); }
const event = JSON.parse(process.env.TEST_EVENT || "null");
if (typeof mod.handler !== "function") { out({ loaded: true, handler: typeof mod.handler }); process.exit(0); }
if (!event) { out({ loaded: true, handler: "function" }); process.exit(0); }
Promise.resolve()
  .then(() => mod.handler(event, { awsRequestId: "test", getRemainingTimeInMillis: () => 10000 }))
  .then((result) => out({ loaded: true, handler: "function", result }), (e) => out({ loaded: true, handler: "function", error: String(e && e.message) }))
  .finally(() => process.exit(0));
`;

export interface Outcome {
  loaded: boolean;
  handler?: string;
  result?: unknown;
  error?: string;
}

export interface DeployedArchives {
  /** The archive's index.js exactly as the program handed it to the engine. */
  deployedCode(fn: FunctionName): Promise<string>;
  /** Runs the archive in a fresh process with the function's own environment. */
  invoke(fn: FunctionName, event: unknown, envOverrides?: Record<string, string>): Promise<Outcome>;
  /** The function's environment as the program sets it. */
  environment(fn: FunctionName): Record<string, string>;
  cleanup(): void;
}

/** Runs the prod program under mocks and gives access to its function archives. */
export async function deployedArchives(stack = "prod"): Promise<DeployedArchives> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-pkg-"));
  const run: StackRun = await runStack(stack);
  const names = resourceNames(readStackSettings(stack).namePrefix);

  async function deployedCode(fn: FunctionName): Promise<string> {
    const f = run.ofType("aws:lambda/function:Function").find((r) => r.inputs.name === names.fn(fn));
    if (!f) throw new Error(`no function ${names.fn(fn)}`);
    const archive = f.inputs.code;
    if (!pulumi.asset.AssetArchive.isInstance(archive)) throw new Error(`${fn}: code is not an AssetArchive`);
    const assets = await (archive as pulumi.asset.AssetArchive).assets;
    if (Object.keys(assets).join() !== "index.js") throw new Error(`${fn}: archive holds ${Object.keys(assets)}`);
    return (assets["index.js"] as pulumi.asset.StringAsset).text;
  }

  async function invoke(fn: FunctionName, event: unknown, envOverrides: Record<string, string> = {}): Promise<Outcome> {
    const fnDir = path.join(dir, fn);
    fs.mkdirSync(fnDir, { recursive: true });
    fs.writeFileSync(path.join(fnDir, "index.js"), await deployedCode(fn));
    fs.writeFileSync(path.join(fnDir, "runner.js"), RUNNER);
    const f = run.ofType("aws:lambda/function:Function").find((r) => r.inputs.name === names.fn(fn))!;
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_REGION: run.region,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      ...f.inputs.environment.variables,
      ...envOverrides,
      TEST_EVENT: JSON.stringify(event),
    };
    return new Promise((resolve, reject) => {
      // The outcome comes back on fd 3 so the handler's own log lines cannot corrupt it.
      const child = spawn(process.execPath, ["runner.js"], { cwd: fnDir, env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
      const timer = setTimeout(() => child.kill(), 30000);
      let stderr = "";
      let result = "";
      child.stderr!.on("data", (d) => (stderr += d));
      child.stdout!.resume();
      (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => (result += d));
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(result));
        } catch {
          reject(new Error(`${fn}: exit ${code}, no outcome\n${stderr}`));
        }
      });
    });
  }

  const environment = (fn: FunctionName) =>
    run.ofType("aws:lambda/function:Function").find((r) => r.inputs.name === names.fn(fn))!.inputs.environment.variables;
  return { deployedCode, invoke, environment, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
