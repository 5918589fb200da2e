// Owns watching the stack: the alarms of lib/monitoring.ts (the runbook's
// thresholds) notifying an SNS topic that emails haumana:alertEmails, the metric
// filters that count the sync functions' 503 answers and refused pieces from
// their log lines, and one dashboard.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmSpecs, logMetricFilters, opsNames, SYNC_METRICS, type AlarmSpec, type TableKey } from "../lib/monitoring";
import { FUNCTION_NAMES, type FunctionName } from "../lib/names";
import { operationsOf } from "./permissions";

export interface MonitoringArgs {
  namePrefix: string;
  region: string;
  alertEmails: string[];
  /** Physical names of what is watched. */
  functionNames: Record<FunctionName, string>;
  apiName: string;
  stageName: string;
  tableNames: Record<TableKey, string>;
  /** The functions' log groups (the metric filters read them). */
  logGroups: Record<FunctionName, aws.cloudwatch.LogGroup>;
}

const SYNC_FUNCTIONS: FunctionName[] = ["sync-pieces", "sync-sessions"];

/** MetricAlarm inputs for one spec: a single metric, or the sum of several (metric math). */
export function alarmInputs(spec: AlarmSpec, topicArn: pulumi.Input<string>): aws.cloudwatch.MetricAlarmArgs {
  const common = {
    name: spec.name,
    alarmDescription: spec.description,
    comparisonOperator: spec.comparison,
    threshold: spec.threshold,
    evaluationPeriods: spec.evaluationPeriods,
    datapointsToAlarm: spec.evaluationPeriods,
    // No data means no requests, so nothing failed.
    treatMissingData: "notBreaching",
    alarmActions: [topicArn],
    okActions: [topicArn],
  };
  if (spec.metrics.length === 0) throw new Error(`monitoring: alarm ${spec.name} has no metric`);
  if (spec.metrics.length === 1) {
    const [m] = spec.metrics;
    return {
      ...common,
      namespace: m.namespace,
      metricName: m.metricName,
      ...(Object.keys(m.dimensions).length ? { dimensions: m.dimensions } : {}),
      statistic: m.stat,
      period: spec.periodSeconds,
    };
  }
  const ids = spec.metrics.map((_, i) => `m${i}`);
  return {
    ...common,
    metricQueries: [
      ...spec.metrics.map((m, i) => ({
        id: ids[i],
        returnData: false,
        metric: { namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, stat: m.stat, period: spec.periodSeconds },
      })),
      { id: "total", expression: `SUM([${ids.join(", ")}])`, label: spec.description, returnData: true },
    ],
  };
}

export class Monitoring extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Monitoring", name, {}, opts);
    const p = { parent: this };
    const ops = opsNames(args.namePrefix);

    this.topic = new aws.sns.Topic("alarms", { name: ops.alarmTopic }, p);
    // Each address gets a confirmation email from AWS; alarms reach it once confirmed.
    for (const email of args.alertEmails) {
      new aws.sns.TopicSubscription(`alarms-${email}`, { topic: this.topic.arn, protocol: "email", endpoint: email }, p);
    }

    for (const f of logMetricFilters(args.namePrefix)) {
      new aws.cloudwatch.LogMetricFilter(
        f.name,
        {
          name: f.name,
          logGroupName: args.logGroups[f.fn].name,
          pattern: f.pattern,
          metricTransformation: { name: f.metricName, namespace: ops.metricNamespace, value: f.value, unit: "Count" },
        },
        p,
      );
    }

    const specs = alarmSpecs({
      namePrefix: args.namePrefix,
      functionNames: args.functionNames,
      apiName: args.apiName,
      stageName: args.stageName,
      tableNames: args.tableNames,
      dynamoOperations: operationsOf(FUNCTION_NAMES, "dynamodb"),
    });
    this.alarms = specs.map((spec) => new aws.cloudwatch.MetricAlarm(spec.name, alarmInputs(spec, this.topic.arn), p));

    this.dashboard = new aws.cloudwatch.Dashboard(
      "dashboard",
      { dashboardName: ops.dashboard, dashboardBody: dashboardBody(args, this.alarms.map((a) => a.arn)) },
      p,
    );
    this.dashboardUrl = pulumi.interpolate`https://${args.region}.console.aws.amazon.com/cloudwatch/home?region=${args.region}#dashboards:name=${this.dashboard.dashboardName}`;
    this.registerOutputs({ topic: this.topic.arn, dashboardUrl: this.dashboardUrl });
  }
}

/** The dashboard: sync requests, errors, latency percentiles, throttles, consumed capacity, and the alarms. */
export function dashboardBody(args: MonitoringArgs, alarmArns: pulumi.Input<string>[]): pulumi.Output<string> {
  const ops = opsNames(args.namePrefix);
  const api = ["ApiName", args.apiName, "Stage", args.stageName];
  const fn = (f: FunctionName) => ["FunctionName", args.functionNames[f]];
  const tables = Object.values(args.tableNames);
  const graph = (title: string, metrics: unknown[][], x: number, y: number) => ({
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, metrics, view: "timeSeries", region: args.region, period: 300, stat: "Sum" },
  });
  const widgets = [
    graph(
      "Sync requests",
      [
        ["AWS/ApiGateway", "Count", ...api, { label: "API requests" }],
        ...SYNC_FUNCTIONS.map((f) => ["AWS/Lambda", "Invocations", ...fn(f), { label: `${f} invocations` }]),
      ],
      0,
      0,
    ),
    graph(
      "Errors",
      [
        ["AWS/ApiGateway", "4XXError", ...api, { label: "API 4XX" }],
        ["AWS/ApiGateway", "5XXError", ...api, { label: "API 5XX" }],
        ...FUNCTION_NAMES.map((f) => ["AWS/Lambda", "Errors", ...fn(f), { label: `${f} errors` }]),
        [ops.metricNamespace, SYNC_METRICS.unavailable, { label: "sync 503 answers" }],
        [ops.metricNamespace, SYNC_METRICS.refusedPieces, { label: "refused pieces" }],
      ],
      12,
      0,
    ),
    graph(
      "Latency percentiles (ms)",
      [
        ...["p50", "p90", "p99"].map((stat) => ["AWS/ApiGateway", "Latency", ...api, { stat, label: `API ${stat}` }]),
        ...SYNC_FUNCTIONS.flatMap((f) => ["p50", "p99"].map((stat) => ["AWS/Lambda", "Duration", ...fn(f), { stat, label: `${f} ${stat}` }])),
      ],
      0,
      6,
    ),
    graph(
      "Throttles",
      [
        ...FUNCTION_NAMES.map((f) => ["AWS/Lambda", "Throttles", ...fn(f), { label: `${f} throttles` }]),
        ...tables.flatMap((t) => [
          ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", t, { label: `${t} read throttles` }],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", t, { label: `${t} write throttles` }],
        ]),
      ],
      12,
      6,
    ),
    graph(
      "Consumed capacity (units)",
      tables.flatMap((t) => [
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", t, { label: `${t} read` }],
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", t, { label: `${t} write` }],
      ]),
      0,
      12,
    ),
    { type: "alarm", x: 12, y: 12, width: 12, height: 6, properties: { title: "Alarms", alarms: alarmArns } },
  ];
  return pulumi.jsonStringify({ widgets });
}
