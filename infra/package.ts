// Owns packaging the Lambda code: each handler in functions/ is bundled with
// esbuild into one CommonJS file when the program runs, so `pulumi up` needs no
// separate build step and nothing built is committed. Tests and the bench reuse
// bundleFunction to run exactly the code that would be deployed.
import * as esbuild from "esbuild";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionName } from "../lib/names";

const ROOT = path.resolve(__dirname, "..");

interface Bundle {
  code: string;
  /** Every file whose code ended up in the bundle, relative to the repository root. */
  inputs: string[];
}
const cache = new Map<FunctionName, Bundle>();

export function functionEntry(name: FunctionName): string {
  return path.join(ROOT, "functions", `${name}.ts`);
}

/** How a function's entry is built; `extra` for the reachability build below. */
function build(name: FunctionName, extra: esbuild.BuildOptions): esbuild.BuildResult<{ write: false; metafile: true }> {
  return esbuild.buildSync({
    entryPoints: [functionEntry(name)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    ...extra,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
}

function bundle(name: FunctionName): Bundle {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  // The AWS SDK is bundled too (not taken from the runtime), so the deployed code
  // runs the SDK version the lock file pins and tests load.
  const result = build(name, { minify: true });
  const [output] = Object.values(result.metafile.outputs);
  const inputs = Object.entries(output.inputs)
    .filter(([, use]) => use.bytesInOutput > 0)
    .map(([file]) => file)
    .sort();
  const built = { code: result.outputFiles[0].text, inputs };
  cache.set(name, built);
  return built;
}

/** The bundled index.js of functions/<name>.ts: no imports left but Node's own. */
export function bundleFunction(name: FunctionName): string {
  return bundle(name).code;
}

const reachable = new Map<FunctionName, string[]>();

/**
 * The repository's files whose code the function can run, relative to the
 * repository root. infra/permissions.ts reads the AWS SDK commands the function can
 * send from these.
 *
 * From a second build of the same entry in which every AWS SDK package is a stub
 * declared free of side effects (infra/sdk-stub): in the deployed bundle a file that
 * merely imports the SDK keeps its `require` of it even when none of its own code is
 * used (the SDK is CommonJS, and requiring it could have effects), so counting the
 * deployed bundle's files would grant the export function, say, every write of the
 * sync store it never calls. What esbuild keeps here is the code reachable from the
 * handler, file by file (a class is kept whole).
 */
export function bundleSources(name: FunctionName): string[] {
  const hit = reachable.get(name);
  if (hit) return hit;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const deps = Object.keys(require("../package.json").dependencies as Record<string, string>);
  const stub = path.join(__dirname, "sdk-stub", "index.js");
  const result = build(name, { alias: Object.fromEntries(deps.filter((d) => d.startsWith("@aws-sdk/")).map((d) => [d, stub])) });
  const [output] = Object.values(result.metafile.outputs);
  const files = Object.entries(output.inputs)
    .filter(([file, use]) => use.bytesInOutput > 0 && !file.includes("node_modules/") && !path.resolve(ROOT, file).startsWith(path.dirname(stub)))
    .map(([file]) => file)
    .sort();
  reachable.set(name, files);
  return files;
}

/** The installed packages' files in the function's bundle (node_modules/...). */
export function bundledPackageFiles(name: FunctionName): string[] {
  return bundle(name).inputs.filter((file) => file.includes("node_modules/"));
}

/** The Lambda deployment package: one index.js exporting `handler`. */
export function functionArchive(name: FunctionName): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleFunction(name)) });
}
