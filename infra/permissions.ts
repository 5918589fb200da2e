// Owns what each function may call: the IAM actions come from the AWS SDK commands
// its code sends, read from the files esbuild put in its bundle (package.ts), so
// the policy follows the code and grants no action the code does not call.
//
// A command is found as `new XCommand(` in a file that imports XCommand from an
// @aws-sdk/* package. Its operation is the one the SDK's own class names (a
// lib-dynamodb GetCommand wraps GetItemCommand). IAM actions are named as the
// operations, except TransactWriteItems, which needs the action of each kind of
// item the code puts in a transaction (`Put:`, `Update:`, ... in the same file), and
// an S3 PutObject that sets `Tagging:`, which also needs s3:PutObjectTagging. A GET
// link presigned with GetObjectCommand is authorized as the signer's s3:GetObject.
import * as fs from "node:fs";
import * as path from "node:path";
import type { FunctionName } from "../lib/names";
import { bundleSources } from "./package";

const ROOT = path.resolve(__dirname, "..");

/** IAM service prefix of each SDK package the functions may use. */
const SERVICE_OF_PACKAGE: Record<string, string> = {
  "@aws-sdk/client-dynamodb": "dynamodb",
  "@aws-sdk/lib-dynamodb": "dynamodb",
  "@aws-sdk/client-cognito-identity-provider": "cognito-idp",
  "@aws-sdk/client-s3": "s3",
};

/** DynamoDB operations whose IAM actions are not their own names. */
const TRANSACTION_ITEM_ACTIONS: Record<string, string> = {
  Put: "PutItem",
  Update: "UpdateItem",
  Delete: "DeleteItem",
  ConditionCheck: "ConditionCheckItem",
};

export interface SdkCall {
  /** The SDK class sent (GetCommand). */
  command: string;
  service: string;
  /** The AWS API operation, as DynamoDB's and CloudWatch's metrics name it (GetItem, TransactWriteItems). */
  operation: string;
  /** The IAM actions the call needs. */
  actions: string[];
  /** Repository file that sends it. */
  file: string;
}

/** `import { A, B as C } from "@aws-sdk/x"`: local name → [package, exported name]. */
function sdkImports(source: string): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  for (const m of source.matchAll(/import\s*(type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g)) {
    if (m[1]) continue;
    for (const spec of m[2].split(",").map((s) => s.trim()).filter(Boolean)) {
      if (spec.startsWith("type ")) continue;
      const [exported, local] = spec.split(/\s+as\s+/).map((s) => s.trim());
      out.set(local ?? exported, [m[3], exported]);
    }
  }
  return out;
}

/** The operation an SDK command class sends, from the SDK's own class. */
export function operationOfCommand(pkg: string, exported: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Cls = require(pkg)[exported];
  if (typeof Cls !== "function") throw new Error(`permissions: ${pkg} has no ${exported}`);
  const command = new Cls({});
  return (command.clientCommand ?? command).constructor.name.replace(/Command$/, "");
}

/** The IAM actions one operation needs; `source` is the file sending it (for transaction items). */
export function actionsFor(service: string, operation: string, source = ""): string[] {
  if (service === "dynamodb" && operation === "TransactWriteItems") {
    const kinds = [...source.matchAll(/\b(Put|Update|Delete|ConditionCheck)\s*:\s*\{/g)].map((m) => m[1]);
    if (kinds.length === 0) throw new Error("permissions: a TransactWriteItems call whose items were not found");
    return [...new Set(kinds)].map((k) => `dynamodb:${TRANSACTION_ITEM_ACTIONS[k]}`).sort();
  }
  if (service === "dynamodb" && operation === "TransactGetItems") return ["dynamodb:GetItem"];
  if (service === "s3" && operation === "PutObject" && /\bTagging\s*:/.test(source)) return ["s3:PutObject", "s3:PutObjectTagging"];
  if (service === "dynamodb" && /ExecuteStatement|ExecuteTransaction/.test(operation)) {
    throw new Error(`permissions: PartiQL (${operation}) needs dynamodb:PartiQL* actions; add them here`);
  }
  return [`${service}:${operation}`];
}

/** Every AWS SDK call the code of `files` (repository-relative) can send. */
export function sdkCallsIn(files: string[]): SdkCall[] {
  const calls: SdkCall[] = [];
  for (const file of files) {
    const source = fs.readFileSync(path.join(ROOT, file), "utf8");
    const imports = sdkImports(source);
    const sent = new Set([...source.matchAll(/\bnew\s+([A-Za-z_$][\w$]*)\s*\(/g)].map((m) => m[1]));
    for (const [local, [pkg, exported]] of imports) {
      if (!exported.endsWith("Command") || !sent.has(local)) continue;
      const service = SERVICE_OF_PACKAGE[pkg];
      if (!service) throw new Error(`permissions: ${file} sends ${exported} from ${pkg}; add its IAM service to SERVICE_OF_PACKAGE`);
      const operation = operationOfCommand(pkg, exported);
      calls.push({ command: exported, service, operation, actions: actionsFor(service, operation, source), file });
    }
  }
  return calls.sort((a, b) => a.operation.localeCompare(b.operation) || a.file.localeCompare(b.file));
}

/** The SDK calls in the function's bundle. */
export function sdkCalls(fn: FunctionName): SdkCall[] {
  return sdkCallsIn(bundleSources(fn));
}

/** The IAM actions of `service` the function's code needs, sorted. */
export function actionsOf(calls: SdkCall[], service: string): string[] {
  return [...new Set(calls.filter((c) => c.service === service).flatMap((c) => c.actions))].sort();
}

/** DynamoDB actions that read an index when the request names one, else the table itself. */
export const INDEX_ACTIONS: ReadonlySet<string> = new Set(["dynamodb:Query", "dynamodb:Scan"]);

/** The operations of `service` that any of the functions sends, sorted (for the per-operation DynamoDB metrics). */
export function operationsOf(fns: readonly FunctionName[], service: string): string[] {
  return [...new Set(fns.flatMap((fn) => sdkCalls(fn).filter((c) => c.service === service).map((c) => c.operation)))].sort();
}
