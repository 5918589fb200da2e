// Reads a committed Pulumi.<stack>.yaml into plain values, for the CLI and tests
// (the Pulumi program itself reads the same keys through pulumi.Config in
// infra/config.ts). Keys are namespaced by the project name in Pulumi.yaml.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PULUMI_PROJECT = "haumana";

export interface StackSettings {
  stack: string;
  region: string;
  environment: string;
  costCenter: string;
  namePrefix: string;
  /** Prod: Pulumi `protect` on the resources that hold user data. */
  protectData: boolean;
  /** Google OAuth client IDs the authorizer accepts; the first is the iOS app's. */
  googleClientIds: string[];
  budgetLimitUsd: number;
  alertEmails: string[];
  /** Optional, default false: the stack sets the region's API Gateway CloudWatch role (one stack per account). */
  manageApiGatewayAccount: boolean;
  /** Optional. Id of an existing REST API (the live one, for prod) that `pulumi up` imports with its `prod` stage. */
  adoptRestApiId?: string;
  /** Optional. Custom domain the API is also served at (certificate and base path mapping made by the program). */
  domainName?: string;
  /** Optional, with domainName. Route 53 hosted zone that holds the domain: validation and alias records are made there. */
  domainZoneId?: string;
}

/** The cutover and custom-domain keys, validated the same way for the CLI and the program. */
export function validateOptionalSettings(
  get: (key: string) => unknown,
  where: string,
): Pick<StackSettings, "adoptRestApiId" | "domainName" | "domainZoneId"> {
  const optional = (k: string, pattern: RegExp, what: string): string | undefined => {
    const v = get(k);
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string" || !pattern.test(v)) throw new StackConfigError(`${where}: ${PULUMI_PROJECT}:${k} must be ${what}`);
    return v;
  };
  const adoptRestApiId = optional("adoptRestApiId", /^[a-z0-9]{10}$/, "a REST API id (10 lower-case letters and digits)");
  const domainName = optional(
    "domainName",
    /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "a lower-case DNS name such as api.example.com",
  );
  const domainZoneId = optional("domainZoneId", /^Z[A-Z0-9]{5,31}$/, "a Route 53 hosted zone id (Z...)");
  if (domainZoneId && !domainName) throw new StackConfigError(`${where}: ${PULUMI_PROJECT}:domainZoneId needs ${PULUMI_PROJECT}:domainName`);
  return {
    ...(adoptRestApiId ? { adoptRestApiId } : {}),
    ...(domainName ? { domainName } : {}),
    ...(domainZoneId ? { domainZoneId } : {}),
  };
}

export class StackConfigError extends Error {
  readonly name = "StackConfigError";
  readonly code = "stack_config";
}

export function repoRoot(): string {
  return path.resolve(__dirname, "..");
}

export function stackFile(stack: string, root = repoRoot()): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}

/** Raw `config:` map of a stack file, keys as written (e.g. "haumana:environment"). */
export function readStackConfigMap(stack: string, root = repoRoot()): Record<string, unknown> {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new StackConfigError(`invalid stack name "${stack}"`);
  const file = stackFile(stack, root);
  if (!fs.existsSync(file)) {
    throw new StackConfigError(`no stack file ${path.basename(file)} (known stacks: ${knownStacks(root).join(", ")})`);
  }
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, "utf8")) ?? {};
  } catch (err) {
    // A YAML error's message runs on with an excerpt of the file; its first line says where.
    const why = String((err as Error)?.message ?? err).split("\n")[0];
    throw new StackConfigError(`cannot read the stack file ${file}: ${why}`);
  }
  const config = (doc as { config?: unknown }).config ?? {};
  if (typeof doc !== "object" || Array.isArray(doc) || typeof config !== "object" || Array.isArray(config)) {
    throw new StackConfigError(`cannot read the stack file ${file}: its top level must be a map with a "config:" map`);
  }
  return config as Record<string, unknown>;
}

export function knownStacks(root = repoRoot()): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s);
}

export function readStackSettings(stack: string, root = repoRoot()): StackSettings {
  const c = readStackConfigMap(stack, root);
  const get = (k: string) => c[`${PULUMI_PROJECT}:${k}`];
  const str = (k: string) => {
    const v = get(k);
    if (typeof v !== "string" || !v) throw new StackConfigError(`Pulumi.${stack}.yaml: ${PULUMI_PROJECT}:${k} must be a non-empty string`);
    return v;
  };
  const list = (k: string) => {
    const v = get(k);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x)) {
      throw new StackConfigError(`Pulumi.${stack}.yaml: ${PULUMI_PROJECT}:${k} must be a non-empty list of strings`);
    }
    return v as string[];
  };
  const limit = Number(get("budgetLimitUsd"));
  if (!Number.isFinite(limit) || limit <= 0) {
    throw new StackConfigError(`Pulumi.${stack}.yaml: ${PULUMI_PROJECT}:budgetLimitUsd must be a positive number`);
  }
  const region = c["aws:region"];
  if (typeof region !== "string" || !region) throw new StackConfigError(`Pulumi.${stack}.yaml: aws:region is required`);
  return {
    stack,
    region,
    environment: str("environment"),
    costCenter: str("costCenter"),
    namePrefix: str("namePrefix"),
    protectData: get("protectData") === true || get("protectData") === "true",
    googleClientIds: list("googleClientIds"),
    budgetLimitUsd: limit,
    alertEmails: list("alertEmails"),
    manageApiGatewayAccount: get("manageApiGatewayAccount") === true || get("manageApiGatewayAccount") === "true",
    ...validateOptionalSettings(get, `Pulumi.${stack}.yaml`),
  };
}
