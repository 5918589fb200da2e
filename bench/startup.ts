// Start-up figures: each Lambda archive as `pulumi up` would package it
// (infra/package.ts bundleFunction, zipped here as index.js the way an
// AssetArchive is), its module init time in a fresh Node process, and the
// start-up of `haumana-ops --help`. Times are medians of several fresh processes.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { bundleFunction } from "../infra/package";
import { FUNCTION_NAMES, FunctionName } from "../lib/names";
import { median } from "./stats";

const ROOT = path.resolve(__dirname, "..");

/** A one-file zip (deflate), the shape of the Lambda deployment package. */
export function zipOneFile(name: string, data: Buffer): Buffer {
  const deflated = zlib.deflateRawSync(data, { level: 9 });
  const crc = zlib.crc32(data);
  const nameBuf = Buffer.from(name, "utf8");
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBuf.length, 12);
  end.writeUInt32LE(30 + nameBuf.length + deflated.length, 16);
  return Buffer.concat([local, nameBuf, deflated, central, nameBuf, end]);
}

/** What each handler reads at load; dummy values (nothing is contacted at init). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: "us-west-2",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  PIECES_TABLE: "haumana-pieces",
  SESSIONS_TABLE: "haumana-sessions",
  AUTH_JWKS_URI: "https://www.googleapis.com/oauth2/v3/certs",
  AUTH_ISSUERS: "accounts.google.com,https://accounts.google.com",
  AUTH_AUDIENCES: "bench.apps.googleusercontent.com",
  USER_POOL_ID: "us-west-2_bench",
};

export interface LambdaFigures {
  name: FunctionName;
  indexBytes: number;
  zipBytes: number;
  initMs: number;
  runs: number;
}

export function measureLambdas(runs = 5): LambdaFigures[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-bench-"));
  try {
    return FUNCTION_NAMES.map((name) => {
      const code = Buffer.from(bundleFunction(name), "utf8");
      const fnDir = path.join(dir, name);
      fs.mkdirSync(fnDir);
      const file = path.join(fnDir, "index.js");
      fs.writeFileSync(file, code);
      const script =
        `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});` +
        `const d=Number(process.hrtime.bigint()-t)/1e6;` +
        `if(typeof m.handler!=="function")throw new Error("no handler");process.stdout.write(String(d));`;
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = spawnSync(process.execPath, ["-e", script], { env: { PATH: process.env.PATH ?? "", ...LAMBDA_ENV }, encoding: "utf8" });
        if (r.status !== 0) throw new Error(`init of ${name} failed: ${r.stderr}`);
        times.push(Number(r.stdout));
      }
      return { name, indexBytes: code.length, zipBytes: zipOneFile("index.js", code).length, initMs: median(times), runs };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function wallMs(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** `haumana-ops --help` wall time, and bare `node -e 0` as the floor it cannot beat. */
export function measureCliStartup(runs = 7): { cliMs: number; nodeMs: number; runs: number } {
  const bin = path.join(ROOT, "bin", "haumana-ops.js");
  wallMs([bin, "--help"]); // warm the file cache
  const cli: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < runs; i++) {
    cli.push(wallMs([bin, "--help"]));
    node.push(wallMs(["-e", "0"]));
  }
  return { cliMs: median(cli), nodeMs: median(node), runs };
}
