// What operating a stack watches, defined once: the alarms and their thresholds
// (the app's runbook), the metrics taken from the sync functions' log lines, the
// API access-log line, and the names of these ops resources. The Pulumi program
// creates them (infra/monitoring.ts, infra/access-logs.ts); haumana-ops reads
// them back (`status`, `logs`).
import { FUNCTION_TIMEOUT_SECONDS } from "./limits";
import { FUNCTION_NAMES, type FunctionName } from "./names";
import type { TableSchema } from "./tables";

export type TableKey = TableSchema["key"];
const TABLE_KEYS: readonly TableKey[] = ["pieces", "sessions"];

export interface OpsNames {
  /** Every alarm's name starts with this and a dash: "Haumana", "Haumana-dev". */
  alarmPrefix: string;
  /** SNS topic the alarms notify; it emails haumana:alertEmails. */
  alarmTopic: string;
  dashboard: string;
  /** The API's access log (one JSON line per request). */
  accessLogGroup: string;
  /** Namespace of the metrics taken from the functions' log lines. */
  metricNamespace: string;
  /** The account-level API Gateway CloudWatch role (created by the stack that owns that setting). */
  apiGatewayCloudWatchRole: string;
}

/**
 * Names of the ops resources of the stack with this name prefix. Alarm and
 * dashboard names are the prefix with a capital first letter ("haumana-dev" →
 * "Haumana-dev"), so each stack's are distinct and read as the runbook names them.
 */
export function opsNames(namePrefix: string): OpsNames {
  const display = namePrefix.charAt(0).toUpperCase() + namePrefix.slice(1);
  return {
    alarmPrefix: display,
    alarmTopic: `${namePrefix}-alarms`,
    dashboard: display,
    accessLogGroup: `/aws/apigateway/${namePrefix}-api-access`,
    metricNamespace: `Haumana/${namePrefix}`,
    apiGatewayCloudWatchRole: `${namePrefix}-apigateway-cloudwatch-role`,
  };
}

// ---------------------------------------------------------------- logs

/** A log source `haumana-ops logs` reads: a function's log group, or the API access log. */
export type LogSource = FunctionName | "access";
export const LOG_SOURCES: readonly LogSource[] = [...FUNCTION_NAMES, "access"];

/** Log group of each source, for a stack whose function log groups are named by `functionLogGroup`. */
export function logGroups(namePrefix: string, functionLogGroup: (fn: FunctionName) => string): Record<LogSource, string> {
  const out = { access: opsNames(namePrefix).accessLogGroup } as Record<LogSource, string>;
  for (const fn of FUNCTION_NAMES) out[fn] = functionLogGroup(fn);
  return out;
}

/**
 * API Gateway access-log line: one JSON object per request. Every value is a
 * string (API Gateway writes "-" for a value it does not have, which would break
 * unquoted JSON). Nothing from the request headers or body, so never a token.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: "$context.requestId",
  time: "$context.requestTime",
  route: "$context.httpMethod $context.resourcePath",
  status: "$context.status",
  latencyMs: "$context.responseLatency",
  integrationStatus: "$context.integration.status",
  integrationLatencyMs: "$context.integration.latency",
  integrationError: "$context.integration.error",
  authorizerStatus: "$context.authorizer.status",
  authorizerLatencyMs: "$context.authorizer.latency",
  responseBytes: "$context.responseLength",
  error: "$context.error.message",
} as const;
export const ACCESS_LOG_FORMAT = JSON.stringify(ACCESS_LOG_FIELDS);

/**
 * Metrics taken from the sync functions' per-request log line (functions/core/http.ts
 * writes one JSON line per request, with `status`; POST /pieces adds `refused`, the
 * number of pieces the request refused).
 */
export const SYNC_LOG_FIELDS = { status: "status", refused: "refused" } as const;
export const SYNC_METRICS = {
  /** 503 answers: DynamoDB did not complete after the store's retries. */
  unavailable: "SyncUnavailable",
  /** Pieces refused by POST /pieces (the device will resend them on every sync). */
  refusedPieces: "RefusedPieces",
} as const;

export interface LogMetricFilterSpec {
  name: string;
  fn: FunctionName;
  /** CloudWatch Logs filter pattern (JSON form). */
  pattern: string;
  metricName: string;
  /** What one matching line adds: "1", or a field of the line. */
  value: string;
}

export function logMetricFilters(namePrefix: string): LogMetricFilterSpec[] {
  const syncFunctions: FunctionName[] = ["sync-pieces", "sync-sessions"];
  return [
    ...syncFunctions.map((fn) => ({
      name: `${namePrefix}-${fn}-503`,
      fn,
      pattern: `{ $.${SYNC_LOG_FIELDS.status} = 503 }`,
      metricName: SYNC_METRICS.unavailable,
      value: "1",
    })),
    {
      name: `${namePrefix}-sync-pieces-refused`,
      fn: "sync-pieces",
      pattern: `{ $.${SYNC_LOG_FIELDS.refused} > 0 }`,
      metricName: SYNC_METRICS.refusedPieces,
      value: `$.${SYNC_LOG_FIELDS.refused}`,
    },
  ];
}

// ---------------------------------------------------------------- alarms

export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  stat: "Sum" | "Average" | "Maximum";
}

export interface AlarmSpec {
  name: string;
  /** The runbook's line, shown in the alarm's description and by `haumana-ops status`. */
  description: string;
  comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  threshold: number;
  periodSeconds: number;
  /** The alarm fires when this many consecutive periods breach. */
  evaluationPeriods: number;
  /** One metric, or several whose sum is compared (a metric-math alarm). */
  metrics: MetricRef[];
}

export interface AlarmInputs {
  namePrefix: string;
  /** Physical names, as deployed. */
  functionNames: Record<FunctionName, string>;
  apiName: string;
  stageName: string;
  tableNames: Record<TableKey, string>;
  /**
   * DynamoDB operations the functions send (GetItem, TransactWriteItems, ...):
   * SystemErrors is reported per table and operation, so the alarm sums these.
   */
  dynamoOperations: string[];
}

const FIVE_MINUTES = 300;

/** The suffix of each alarm, in the order `status` lists them. */
export function alarmSuffixes(): string[] {
  return [
    ...FUNCTION_NAMES.flatMap((fn) => [`${fn}-Errors`, `${fn}-Throttles`, `${fn}-Duration`]),
    "API-4XX",
    "API-5XX",
    "API-Latency",
    "DynamoDB-UserErrors",
    ...TABLE_KEYS.map((t) => `${t}-table-SystemErrors`),
    "Sync-503",
    "Sync-RefusedPieces",
  ];
}

/** Every alarm name of the stack with this name prefix. */
export function alarmNames(namePrefix: string): string[] {
  const { alarmPrefix } = opsNames(namePrefix);
  return alarmSuffixes().map((s) => `${alarmPrefix}-${s}`);
}

/** The runbook's alarms for one stack. */
export function alarmSpecs(i: AlarmInputs): AlarmSpec[] {
  const ops = opsNames(i.namePrefix);
  const name = (suffix: string) => `${ops.alarmPrefix}-${suffix}`;
  const lambda = (fn: FunctionName, metricName: string, stat: MetricRef["stat"]): MetricRef => ({
    namespace: "AWS/Lambda",
    metricName,
    dimensions: { FunctionName: i.functionNames[fn] },
    stat,
  });
  const api = (metricName: string, stat: MetricRef["stat"]): MetricRef => ({
    namespace: "AWS/ApiGateway",
    metricName,
    dimensions: { ApiName: i.apiName, Stage: i.stageName },
    stat,
  });
  const sum = (suffix: string, description: string, metrics: MetricRef[], threshold: number, orEqual = false): AlarmSpec => ({
    name: name(suffix),
    description,
    comparison: orEqual ? "GreaterThanOrEqualToThreshold" : "GreaterThanThreshold",
    threshold,
    periodSeconds: FIVE_MINUTES,
    evaluationPeriods: 1,
    metrics,
  });

  const specs: AlarmSpec[] = [];
  for (const fn of FUNCTION_NAMES) {
    const timeoutMs = FUNCTION_TIMEOUT_SECONDS[fn] * 1000;
    specs.push(
      sum(`${fn}-Errors`, `${fn}: more than 5 errors in 5 minutes`, [lambda(fn, "Errors", "Sum")], 5),
      sum(`${fn}-Throttles`, `${fn}: throttled at least once`, [lambda(fn, "Throttles", "Sum")], 1, true),
      sum(`${fn}-Duration`, `${fn}: an invocation took over 80 % of its ${timeoutMs / 1000} s timeout`, [lambda(fn, "Duration", "Maximum")], 0.8 * timeoutMs),
    );
  }
  specs.push(
    sum("API-4XX", "API: more than 20 4XX answers in 5 minutes", [api("4XXError", "Sum")], 20),
    sum("API-5XX", "API: more than 5 5XX answers in 5 minutes", [api("5XXError", "Sum")], 5),
    {
      name: name("API-Latency"),
      description: "API: average latency over 1 s for 10 minutes",
      comparison: "GreaterThanThreshold",
      threshold: 1000,
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: 2,
      metrics: [api("Latency", "Average")],
    },
    // DynamoDB reports UserErrors for the whole account and region, not per table.
    sum(
      "DynamoDB-UserErrors",
      "DynamoDB (account and region): more than 10 user errors in 5 minutes",
      [{ namespace: "AWS/DynamoDB", metricName: "UserErrors", dimensions: {}, stat: "Sum" }],
      10,
    ),
    ...TABLE_KEYS.map((t) =>
      sum(
        `${t}-table-SystemErrors`,
        `${t} table: more than 5 system errors in 5 minutes`,
        i.dynamoOperations.map((Operation) => ({
          namespace: "AWS/DynamoDB",
          metricName: "SystemErrors",
          dimensions: { TableName: i.tableNames[t], Operation },
          stat: "Sum" as const,
        })),
        5,
      ),
    ),
    sum(
      "Sync-503",
      "sync: answered 503 (DynamoDB failed after retries) at least once in 5 minutes",
      [{ namespace: ops.metricNamespace, metricName: SYNC_METRICS.unavailable, dimensions: {}, stat: "Sum" }],
      1,
      true,
    ),
    sum(
      "Sync-RefusedPieces",
      "sync: POST /pieces refused a piece at least once in 5 minutes",
      [{ namespace: ops.metricNamespace, metricName: SYNC_METRICS.refusedPieces, dimensions: {}, stat: "Sum" }],
      1,
      true,
    ),
  );
  return specs;
}
