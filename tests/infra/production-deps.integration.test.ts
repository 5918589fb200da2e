// `pulumi up` with production dependencies only (`npm ci --omit=dev`). Pulumi
// starts `node <nodeargs from Pulumi.yaml> <its runner>`, which requires the
// program's main file. This test starts Node the same way, from the repository,
// with a resolver guard that refuses any package package-lock.json marks as
// needed by devDependencies ("dev", or "devOptional": a production install leaves
// out the first and may leave out the second; TypeScript is one), runs the program
// under Pulumi mocks with the committed prod config, and checks that it registers
// the stack. The functions' bundles (esbuild resolves those itself) are checked
// against the lock file too.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { FUNCTION_NAMES } from "../../lib/names";
import { repoRoot } from "../../lib/stack-config";
import { bundledPackageFiles } from "../../infra/package";
import { engineConfig } from "./harness";

jest.setTimeout(120_000);
const ROOT = repoRoot();
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));

/** "node_modules/@aws-sdk/x/node_modules/y/dist/a.js" → "node_modules/@aws-sdk/x/node_modules/y". */
function packageKey(file: string): string {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)/.exec(file);
  if (!m) throw new Error(`not in node_modules: ${file}`);
  return m[1];
}

const GUARD = `
const Module = require("node:module");
const path = require("node:path");
const lock = require(${JSON.stringify(path.join(ROOT, "package-lock.json"))});
const root = ${JSON.stringify(ROOT)};
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const file = resolve.call(this, request, parent, ...rest);
  const rel = path.relative(root, file).split(path.sep).join("/");
  const m = /^(.*node_modules\\/(?:@[^/]+\\/)?[^/]+)/.exec(rel);
  const entry = m && lock.packages[m[1]];
  if (entry && (entry.dev || entry.devOptional)) {
    throw new Error("devDependency " + m[1] + " required (" + request + " from " + (parent && parent.filename) + ")");
  }
  return file;
};
`;

function runNode(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { cwd, env: { PATH: process.env.PATH, ...env }, timeout: 100_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as any).code ?? null) : 0, stdout, stderr }),
    );
  });
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-prod-deps-"));
  fs.writeFileSync(path.join(tmp, "guard.js"), GUARD);
  fs.writeFileSync(path.join(tmp, "runner.js"), RUNNER);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Pulumi's own runner lives inside @pulumi/pulumi; this one requires the same copy by path.
const RUNNER = `
const pulumi = require(${JSON.stringify(path.join(ROOT, "node_modules/@pulumi/pulumi"))});
const resources = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => { resources.push(args.type); return { id: args.name + "-id", state: { ...args.inputs, arn: "arn:aws:mock:::" + args.name } }; },
    call: (args) => { throw new Error("unexpected invoke " + args.token); },
  },
  "haumana",
  "prod",
  false,
);
const program = require(require("node:path").resolve(process.argv[2]));
(async () => {
  const outputs = {};
  for (const [k, v] of Object.entries(program)) outputs[k] = await new Promise((r) => pulumi.output(v).apply(r));
  await require(${JSON.stringify(path.join(ROOT, "node_modules/@pulumi/pulumi/runtime/settings"))}).waitForRPCs();
  process.stdout.write(JSON.stringify({ resources, outputs: Object.keys(outputs).sort() }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

test("Pulumi.yaml runs the program through esbuild, not TypeScript", () => {
  const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
  expect(project.runtime.options.typescript).toBe(false);
  expect(project.runtime.options.nodeargs).toBe("--require ./infra/ts-loader.js");
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["esbuild", "@pulumi/pulumi", "@pulumi/aws"]));
  expect(Object.keys(pkg.dependencies)).not.toContain("typescript");
});

test("the program loads and registers the stack with production dependencies only", async () => {
  const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
  const nodeargs: string[] = project.runtime.options.nodeargs.split(/\s+/);
  const result = await runNode(["--require", path.join(tmp, "guard.js"), ...nodeargs, path.join(tmp, "runner.js"), project.main], {
    HOME: tmp,
    PULUMI_CONFIG: JSON.stringify(engineConfig("prod")),
  });
  expect({ code: result.code, stderr: result.stderr.slice(0, 2000) }).toEqual({ code: 0, stderr: "" });
  const { resources, outputs } = JSON.parse(result.stdout);
  expect(resources).toEqual(expect.arrayContaining(["aws:lambda/function:Function", "aws:dynamodb/table:Table", "aws:cloudwatch/metricAlarm:MetricAlarm"]));
  expect(resources.filter((t: string) => t === "aws:lambda/function:Function")).toHaveLength(FUNCTION_NAMES.length);
  expect(outputs).toEqual(expect.arrayContaining(["apiUrl", "userPoolId"]));
});

test("the guard refuses what a production install leaves out: TypeScript, tsx", async () => {
  for (const pkg of ["typescript", "tsx"]) {
    const r = await runNode(["--require", path.join(tmp, "guard.js"), "-e", `require(${JSON.stringify(pkg)})`], { HOME: tmp });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`devDependency node_modules/${pkg} required`);
  }
});

test("every package bundled into a function is a production dependency", () => {
  for (const fn of FUNCTION_NAMES) {
    const dev = [...new Set(bundledPackageFiles(fn).map(packageKey))].filter((k) => lock.packages[k]?.dev);
    expect({ fn, dev }).toEqual({ fn, dev: [] });
  }
  expect(bundledPackageFiles("sync-pieces").length).toBeGreaterThan(0);
});
