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

function bundle(name: FunctionName): Bundle {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const result = esbuild.buildSync({
    entryPoints: [functionEntry(name)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    // The AWS SDK is bundled too (not taken from the runtime), so the deployed code
    // runs the SDK version the lock file pins and tests load.
    write: false,
    metafile: true,
    logLevel: "silent",
  });
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

/**
 * The repository's files whose code is in the function's bundle (what esbuild kept
 * after tree shaking), relative to the repository root. infra/permissions.ts reads
 * the AWS SDK commands the function can send from these.
 */
export function bundleSources(name: FunctionName): string[] {
  return bundle(name).inputs.filter((file) => !file.includes("node_modules/"));
}

/** The installed packages' files in the function's bundle (node_modules/...). */
export function bundledPackageFiles(name: FunctionName): string[] {
  return bundle(name).inputs.filter((file) => file.includes("node_modules/"));
}

/** The Lambda deployment package: one index.js exporting `handler`. */
export function functionArchive(name: FunctionName): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundleFunction(name)) });
}
