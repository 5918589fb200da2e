// The AWS cost model of `npm run bench`: published on-demand prices in one place,
// and the arithmetic that turns measured units, bytes and durations of one sync
// into a cost per active user-month. Pure, so tests/bench-cost.unit.test.ts can
// check it by hand.

/**
 * us-west-2 on-demand list prices, before free tier, as published on
 * https://aws.amazon.com/api-gateway/pricing/ (REST API, first 333 M requests),
 * https://aws.amazon.com/lambda/pricing/ (Arm, first 7.5 B GB-s),
 * https://aws.amazon.com/dynamodb/pricing/on-demand/ and
 * https://aws.amazon.com/cloudwatch/pricing/ (Logs, standard ingestion).
 * The same figures as the README's "Resources and what they cost".
 */
export const PRICES = {
  apiGatewayRestPerMillionRequests: 3.5,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoDbPerMillionReadRequestUnits: 0.125,
  dynamoDbPerMillionWriteRequestUnits: 0.625,
  cloudWatchLogsIngestionPerGb: 0.5,
} as const;
export type Prices = typeof PRICES;

/** How an active user syncs, and what the deployment gives each Lambda. */
export const USAGE = {
  syncsPerDay: 30,
  daysPerMonth: 30,
  /** Of those, syncs that push edits (10 each); the rest change nothing. */
  changeSyncsPerDay: 1,
  /** infra/functions.ts: sync-pieces has 512 MB, the authorizer 256 MB. */
  syncMemoryMb: 512,
  authorizerMemoryMb: 256,
  /** START, END and REPORT lines Lambda writes per invocation (assumed, both sides). */
  platformLogBytesPerInvocation: 300,
} as const;
export type Usage = typeof USAGE;

/** What one POST /pieces costs in measured terms. */
export interface SyncProfile {
  readUnits: number;
  writeUnits: number;
  /** Bytes the sync Lambda logs (its own lines). */
  logBytes: number;
  /** Billed duration of the sync Lambda (rounded up to 1 ms when costed). */
  syncMs: number;
  /** Billed duration of the authorizer invocation in front of it. */
  authorizerMs: number;
}

export interface CostBreakdown {
  apiGateway: number;
  lambda: number;
  dynamoDb: number;
  logs: number;
  total: number;
}

const GB = 1024 ** 3;

/** Cost of one sync: one API request, a sync Lambda and an authorizer invocation. */
export function costPerSync(p: SyncProfile, usage: Usage = USAGE, prices: Prices = PRICES): CostBreakdown {
  const gbSeconds =
    (Math.ceil(p.syncMs) / 1000) * (usage.syncMemoryMb / 1024) + (Math.ceil(p.authorizerMs) / 1000) * (usage.authorizerMemoryMb / 1024);
  const apiGateway = prices.apiGatewayRestPerMillionRequests / 1e6;
  const lambda = gbSeconds * prices.lambdaArmPerGbSecond + (2 * prices.lambdaPerMillionRequests) / 1e6;
  const dynamoDb =
    (p.readUnits * prices.dynamoDbPerMillionReadRequestUnits + p.writeUnits * prices.dynamoDbPerMillionWriteRequestUnits) / 1e6;
  const logBytes = p.logBytes + 2 * usage.platformLogBytesPerInvocation;
  const logs = (logBytes / GB) * prices.cloudWatchLogsIngestionPerGb;
  return { apiGateway, lambda, dynamoDb, logs, total: apiGateway + lambda + dynamoDb + logs };
}

/** Cost of an active user's month: no-change syncs plus the syncs that push edits. */
export function costPerUserMonth(
  noChange: SyncProfile,
  withChanges: SyncProfile,
  usage: Usage = USAGE,
  prices: Prices = PRICES,
): CostBreakdown {
  const changeSyncs = usage.changeSyncsPerDay * usage.daysPerMonth;
  const quietSyncs = (usage.syncsPerDay - usage.changeSyncsPerDay) * usage.daysPerMonth;
  const a = costPerSync(noChange, usage, prices);
  const b = costPerSync(withChanges, usage, prices);
  const sum = (k: keyof CostBreakdown) => quietSyncs * a[k] + changeSyncs * b[k];
  return { apiGateway: sum("apiGateway"), lambda: sum("lambda"), dynamoDb: sum("dynamoDb"), logs: sum("logs"), total: sum("total") };
}
