// Proves the packaging: the code archive each function hands to Pulumi is loaded,
// alone, in a fresh Node process (from a directory where no node_modules can be
// found) with the environment the program gives it, and its handler is called.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { FUNCTION_NAMES, resourceNames, type FunctionName } from "../../lib/names";
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

interface Outcome {
  loaded: boolean;
  handler?: string;
  result?: unknown;
  error?: string;
}

let dir: string;
let run: StackRun;
const names = resourceNames(readStackSettings("prod").namePrefix);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-pkg-"));
  run = await runStack("prod");
}, 120000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The archive's index.js exactly as the program handed it to the engine. */
async function deployedCode(fn: FunctionName): Promise<string> {
  const f = run.ofType("aws:lambda/function:Function").find((r) => r.inputs.name === names.fn(fn));
  if (!f) throw new Error(`no function ${names.fn(fn)}`);
  const archive = f.inputs.code;
  expect(pulumi.asset.AssetArchive.isInstance(archive)).toBe(true);
  const assets = await (archive as pulumi.asset.AssetArchive).assets;
  expect(Object.keys(assets)).toEqual(["index.js"]);
  return (assets["index.js"] as pulumi.asset.StringAsset).text;
}

/** Runs the archive in a fresh process with the function's own environment. */
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

// The SDK requires this inside a try, only for SigV4a signing, which Haumana never uses.
const OPTIONAL_REQUIRES = ["@aws-sdk/signature-v4-crt"];

test("every function's archive is one index.js with no imports outside Node", async () => {
  const { builtinModules } = await import("node:module");
  for (const fn of FUNCTION_NAMES) {
    const code = await deployedCode(fn);
    expect(code.length).toBeGreaterThan(100);
    const requires = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    const foreign = requires.filter((r) => !r.startsWith("node:") && !builtinModules.includes(r) && !OPTIONAL_REQUIRES.includes(r));
    expect({ fn, foreign }).toEqual({ fn, foreign: [] });
  }
});

test("the authorizer, loaded from its archive, denies a garbage token", async () => {
  const outcome = await invoke(
    "authorizer",
    { type: "TOKEN", authorizationToken: "Bearer garbage", methodArn: "arn:aws:execute-api:us-west-2:123456789012:abc/prod/POST/pieces" },
    // A garbage token fails before any key fetch; should it not, the fetch fails too.
    { AUTH_JWKS_URI: "http://127.0.0.1:1/" },
  );
  expect(outcome).toEqual({ loaded: true, handler: "function", error: "Unauthorized" });
});

test.each(["auth-sync", "sync-pieces", "sync-sessions"] as const)("%s loads from its archive and exports a handler", async (fn) => {
  expect(await invoke(fn, null)).toEqual({ loaded: true, handler: "function" });
});
