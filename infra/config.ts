// Owns reading the stack's configuration. The only module that touches
// pulumi.Config: everything else receives these plain values, so components can be
// built in tests without faking config. Keys are those of Pulumi.<stack>.yaml.
import * as pulumi from "@pulumi/pulumi";
import { PULUMI_PROJECT, validateOptionalSettings, type StackSettings } from "../lib/stack-config";

/** The settings of lib/stack-config.ts (what the CLI reads from the same file), plus infra's own. */
export interface StackConfig extends Omit<StackSettings, "stack"> {
  /** CloudWatch retention of the functions' logs; optional key, 30 days when data is protected, else 7. */
  logRetentionDays: number;
  /**
   * Optional key, default false. This stack sets the region's API Gateway
   * CloudWatch role (an account-wide setting access logs need); exactly one stack
   * per account and region should.
   */
  manageApiGatewayAccount: boolean;
}

// The values CloudWatch Logs accepts for retentionInDays.
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function stringList(c: pulumi.Config, key: string): string[] {
  const v = c.requireObject<unknown>(key);
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "string" && x.length > 0)) {
    throw new Error(`${PULUMI_PROJECT}:${key} must be a non-empty list of strings`);
  }
  return v as string[];
}

export function loadConfig(): StackConfig {
  const c = new pulumi.Config(PULUMI_PROJECT);
  const budgetLimitUsd = c.requireNumber("budgetLimitUsd");
  if (!(budgetLimitUsd > 0)) throw new Error(`${PULUMI_PROJECT}:budgetLimitUsd must be positive`);
  const protectData = c.requireBoolean("protectData");
  const logRetentionDays = c.getNumber("logRetentionDays") ?? (protectData ? 30 : 7);
  if (!RETENTION_DAYS.includes(logRetentionDays)) {
    throw new Error(`${PULUMI_PROJECT}:logRetentionDays must be one of ${RETENTION_DAYS.join(", ")}`);
  }
  return {
    region: new pulumi.Config("aws").require("region"),
    environment: c.require("environment"),
    costCenter: c.require("costCenter"),
    namePrefix: c.require("namePrefix"),
    protectData,
    googleClientIds: stringList(c, "googleClientIds"),
    budgetLimitUsd,
    alertEmails: stringList(c, "alertEmails"),
    logRetentionDays,
    manageApiGatewayAccount: c.getBoolean("manageApiGatewayAccount") ?? false,
    ...validateOptionalSettings((k) => c.get(k), "stack config"),
  };
}
