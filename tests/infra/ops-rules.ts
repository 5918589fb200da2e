// Operating the stack, as rules over the resources one stack registers: the
// runbook's alarms (the table below is the runbook's, written out here, not read
// from lib/), the SNS topic they notify, the log metric filters, the access log
// and the account-level API Gateway role, the dashboard, and tags on all of it.
// Used by prod.unit.test.ts and dev.unit.test.ts with the run of stackRules.
import { FUNCTION_NAMES, resourceNames } from "../../lib/names";
import { readStackSettings } from "../../lib/stack-config";
import { stackTags } from "../../lib/tags";
import { sdkCalls } from "../../infra/permissions";
import type { Recorded, StackRun } from "./harness";
import { statements, T } from "./rules";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const ACCOUNT = "aws:apigateway/account:Account";

interface Expected {
  name: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  statistic: string;
  comparisonOperator: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  threshold: number;
  /** The runbook's window: period × evaluation periods, in seconds. */
  window: number;
}

export function opsRules(stack: string, getRun: () => StackRun) {
  const settings = readStackSettings(stack);
  const names = resourceNames(settings.namePrefix);
  const tags = stackTags(settings);
  // Alarms are named Haumana-..., per stack: "Haumana-", "Haumana-dev-".
  const P = settings.namePrefix.replace(/^haumana/, "Haumana");
  const run = () => getRun();
  const one = (type: string) => {
    const rs = run().ofType(type);
    expect(rs).toHaveLength(1);
    return rs[0];
  };
  const alarm = (name: string) => {
    const a = run().ofType(ALARM).find((x) => x.inputs.name === name);
    if (!a) throw new Error(`no alarm ${name}`);
    return a;
  };
  const fnTimeoutMs = (fn: string) => run().ofType(T.fn).find((f) => f.inputs.name === names.fn(fn as any))!.inputs.timeout * 1000;

  /** The runbook: each function's Errors > 5 in 5 min, Throttles >= 1, Duration > 80 % of its timeout; API 4XX > 20, 5XX > 5, Latency > 1 s for 10 min. */
  const runbook = (): Expected[] => [
    ...FUNCTION_NAMES.flatMap((fn): Expected[] => {
      const dimensions = { FunctionName: names.fn(fn) };
      return [
        { name: `${P}-${fn}-Errors`, namespace: "AWS/Lambda", metricName: "Errors", dimensions, statistic: "Sum", comparisonOperator: "GreaterThanThreshold", threshold: 5, window: 300 },
        { name: `${P}-${fn}-Throttles`, namespace: "AWS/Lambda", metricName: "Throttles", dimensions, statistic: "Sum", comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, window: 300 },
        {
          name: `${P}-${fn}-Duration`,
          namespace: "AWS/Lambda",
          metricName: "Duration",
          dimensions,
          statistic: "Maximum",
          comparisonOperator: "GreaterThanThreshold",
          threshold: 0.8 * fnTimeoutMs(fn),
          window: 300,
        },
      ];
    }),
    ...(() => {
      const dimensions = { ApiName: names.api, Stage: "prod" };
      return [
        { name: `${P}-API-4XX`, namespace: "AWS/ApiGateway", metricName: "4XXError", dimensions, statistic: "Sum", comparisonOperator: "GreaterThanThreshold", threshold: 20, window: 300 },
        { name: `${P}-API-5XX`, namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions, statistic: "Sum", comparisonOperator: "GreaterThanThreshold", threshold: 5, window: 300 },
        { name: `${P}-API-Latency`, namespace: "AWS/ApiGateway", metricName: "Latency", dimensions, statistic: "Average", comparisonOperator: "GreaterThanThreshold", threshold: 1000, window: 600 },
      ] as Expected[];
    })(),
    // DynamoDB publishes UserErrors for the account and region only (no dimensions).
    { name: `${P}-DynamoDB-UserErrors`, namespace: "AWS/DynamoDB", metricName: "UserErrors", statistic: "Sum", comparisonOperator: "GreaterThanThreshold", threshold: 10, window: 300 },
  ];

  describe(`stack ${stack}: alarms`, () => {
    test("every alarm of the runbook, with its metric, statistic, threshold and window, notifying the topic", () => {
      const topic = one(T.topic);
      for (const e of runbook()) {
        const a = alarm(e.name);
        expect({ name: e.name, ...pick(a.inputs) }).toEqual({
          name: e.name,
          namespace: e.namespace,
          metricName: e.metricName,
          dimensions: e.dimensions,
          statistic: e.statistic,
          comparisonOperator: e.comparisonOperator,
          threshold: e.threshold,
          window: e.window,
          datapointsToAlarm: a.inputs.evaluationPeriods,
          alarmActions: [topic.state.arn],
          okActions: [topic.state.arn],
          treatMissingData: "notBreaching",
        });
      }
    });

    test("DynamoDB SystemErrors > 5 in 5 minutes on each table, summed over every operation the functions send", () => {
      const topic = one(T.topic);
      const operations = [...new Set(FUNCTION_NAMES.flatMap((fn) => sdkCalls(fn).filter((c) => c.service === "dynamodb").map((c) => c.operation)))].sort();
      expect(operations).toEqual(expect.arrayContaining(["GetItem", "Query", "TransactWriteItems"]));
      for (const [key, table] of [["pieces", names.piecesTable], ["sessions", names.sessionsTable]]) {
        const a = alarm(`${P}-${key}-table-SystemErrors`);
        expect(a.inputs).toMatchObject({ comparisonOperator: "GreaterThanThreshold", threshold: 5, evaluationPeriods: 1, alarmActions: [topic.state.arn], treatMissingData: "notBreaching" });
        const queries: any[] = a.inputs.metricQueries;
        const metrics = queries.filter((q) => q.metric);
        expect(metrics.map((q) => q.metric.dimensions.Operation).sort()).toEqual(operations);
        for (const q of metrics) {
          expect(q.metric).toMatchObject({ namespace: "AWS/DynamoDB", metricName: "SystemErrors", stat: "Sum", period: 300, dimensions: { TableName: table } });
          expect(q.returnData).toBe(false);
        }
        const [total] = queries.filter((q) => q.expression);
        expect(total.returnData).toBe(true);
        expect(total.expression).toBe(`SUM([${metrics.map((q) => q.id).join(", ")}])`);
        // A metric-math alarm reads at most 10 metrics.
        expect(metrics.length).toBeLessThanOrEqual(10);
      }
    });

    test("503 answers and refused pieces: metric filters on the sync functions' log lines feed two alarms", () => {
      const topic = one(T.topic);
      const group = (fn: string) => run().ofType(T.logGroup).find((g) => g.inputs.name === names.logGroup(fn as any))!;
      const filters = run().ofType(FILTER);
      const byMetric = (metric: string) => filters.filter((f) => f.inputs.metricTransformation.name === metric);
      const namespace = `Haumana/${settings.namePrefix}`;

      const unavailable = byMetric("SyncUnavailable");
      expect(unavailable.map((f) => f.inputs.logGroupName).sort()).toEqual([group("sync-pieces").inputs.name, group("sync-sessions").inputs.name].sort());
      for (const f of unavailable) {
        expect(f.inputs.pattern).toBe("{ $.status = 503 }");
        expect(f.inputs.metricTransformation).toMatchObject({ namespace, value: "1" });
      }
      const refused = byMetric("RefusedPieces");
      expect(refused.map((f) => f.inputs.logGroupName)).toEqual([group("sync-pieces").inputs.name]);
      expect(refused[0].inputs.pattern).toBe("{ $.refused > 0 }");
      expect(refused[0].inputs.metricTransformation).toMatchObject({ namespace, value: "$.refused" });
      expect(filters).toHaveLength(3);

      for (const [name, metricName] of [[`${P}-Sync-503`, "SyncUnavailable"], [`${P}-Sync-RefusedPieces`, "RefusedPieces"]]) {
        expect({ name, ...pick(alarm(name).inputs) }).toEqual({
          name,
          namespace,
          metricName,
          dimensions: undefined,
          statistic: "Sum",
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          window: 300,
          datapointsToAlarm: 1,
          alarmActions: [topic.state.arn],
          okActions: [topic.state.arn],
          treatMissingData: "notBreaching",
        });
      }
    });

    test("no alarm beyond those, and every one is named Haumana-... for this stack", () => {
      const expected = [...runbook().map((e) => e.name), `${P}-pieces-table-SystemErrors`, `${P}-sessions-table-SystemErrors`, `${P}-Sync-503`, `${P}-Sync-RefusedPieces`];
      expect(run().ofType(ALARM).map((a) => a.inputs.name).sort()).toEqual(expected.sort());
      for (const a of run().ofType(ALARM)) {
        expect(a.inputs.name.startsWith(`${P}-`)).toBe(true);
        expect(a.inputs.alarmDescription).toEqual(expect.any(String));
      }
    });

    test("the topic emails haumana:alertEmails (the budget's list)", () => {
      const topic = one(T.topic);
      expect(topic.inputs.name).toBe(`${settings.namePrefix}-alarms`);
      const subs = run().ofType(SUBSCRIPTION);
      expect(subs.map((s) => ({ topic: s.inputs.topic, protocol: s.inputs.protocol, endpoint: s.inputs.endpoint }))).toEqual(
        settings.alertEmails.map((endpoint) => ({ topic: topic.state.arn, protocol: "email", endpoint })),
      );
    });
  });

  describe(`stack ${stack}: access logs and the API Gateway account setting`, () => {
    const accessGroup = () => run().ofType(T.logGroup).find((g) => g.inputs.name === `/aws/apigateway/${settings.namePrefix}-api-access`)!;

    test("the stage writes one JSON line per request to a log group with retention", () => {
      const group = accessGroup();
      expect(group).toBeDefined();
      expect(group.inputs.retentionInDays).toBe(settings.protectData ? 30 : 7);
      const stage = one(T.stage);
      expect(stage.inputs.accessLogSettings.destinationArn).toBe(group.state.arn);
      const fields = JSON.parse(stage.inputs.accessLogSettings.format);
      expect(fields).toMatchObject({
        requestId: "$context.requestId",
        route: "$context.httpMethod $context.resourcePath",
        status: "$context.status",
        latencyMs: "$context.responseLatency",
        integrationStatus: "$context.integration.status",
      });
      for (const v of Object.values(fields) as string[]) {
        // Every value a quoted $context variable; nothing from the request itself (no token).
        expect(v).toMatch(/^(\$context\.[a-zA-Z.]+ ?)+$/);
        expect(v).not.toMatch(/\$input|identity|header|authorization|token/i);
      }
    });

    test(`the account's API Gateway CloudWatch role is ${stack === "prod" ? "owned here, and kept on destroy" : "left to the stack that owns it"}`, () => {
      const accounts = run().ofType(ACCOUNT);
      const roleName = `${settings.namePrefix}-apigateway-cloudwatch-role`;
      const role = run().ofType(T.role).find((r) => r.inputs.name === roleName);
      if (stack !== "prod") {
        expect(accounts).toEqual([]);
        expect(role).toBeUndefined();
        return;
      }
      expect(accounts).toHaveLength(1);
      const [account] = accounts;
      expect(role).toBeDefined();
      expect(account.inputs.cloudwatchRoleArn).toBe(role!.state.arn);
      expect(statements(role!.inputs.assumeRolePolicy)).toEqual([
        { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      const attachments = run().ofType(T.policyAttachment).filter((a) => a.inputs.role === roleName);
      expect(attachments.map((a) => a.inputs.policyArn)).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"]);
      // Deleting the account resource would reset the region's setting for every API.
      for (const r of [account, role!, ...attachments]) expect({ r: r.name, retainOnDelete: r.retainOnDelete }).toEqual({ r: r.name, retainOnDelete: true });
      expect(one(T.stage).dependencies).toContain(account.urn);
    });
  });

  describe(`stack ${stack}: dashboard and tags`, () => {
    test("one dashboard: sync requests, errors, latency percentiles, throttles, consumed capacity, the alarms", () => {
      const d = one(T.dashboard);
      expect(d.inputs.dashboardName).toBe(P);
      const body = JSON.parse(d.inputs.dashboardBody);
      const graphs: any[] = body.widgets.filter((w: any) => w.type === "metric");
      const titled = (prefix: string) => graphs.find((w) => w.properties.title.startsWith(prefix))!.properties.metrics as any[][];
      const text = (ms: any[][]) => JSON.stringify(ms);
      expect(text(titled("Sync requests"))).toContain('"Count"');
      const errors = text(titled("Errors"));
      for (const fn of FUNCTION_NAMES) expect(errors).toContain(names.fn(fn));
      expect(errors).toContain("5XXError");
      expect(errors).toContain("SyncUnavailable");
      const latency = titled("Latency percentiles");
      expect(latency.map((m) => m[m.length - 1].stat)).toEqual(expect.arrayContaining(["p50", "p90", "p99"]));
      const throttles = text(titled("Throttles"));
      for (const fn of FUNCTION_NAMES) expect(throttles).toContain(names.fn(fn));
      const capacity = text(titled("Consumed capacity"));
      for (const t of [names.piecesTable, names.sessionsTable]) expect(capacity).toContain(t);
      expect(capacity).toContain("ConsumedWriteCapacityUnits");
      for (const g of graphs) expect(g.properties.region).toBe(settings.region);
      // Within CloudWatch's free dashboards (up to 50 metrics each).
      expect(graphs.reduce((n, g) => n + g.properties.metrics.length, 0)).toBeLessThanOrEqual(50);
      const alarms = body.widgets.find((w: any) => w.type === "alarm");
      expect(alarms.properties.alarms.sort()).toEqual(run().ofType(ALARM).map((a) => a.state.arn).sort());
    });

    test("every resource added to operate the stack carries the stack's tags", () => {
      const added: Recorded[] = [one(T.topic), ...run().ofType(ALARM), accessGroupOf(run(), settings.namePrefix)];
      const apiRole = run().ofType(T.role).find((r) => r.inputs.name === `${settings.namePrefix}-apigateway-cloudwatch-role`);
      if (apiRole) added.push(apiRole);
      for (const r of added) expect({ r: r.name, tags: r.inputs.tags }).toEqual({ r: r.name, tags });
    });
  });
}

function accessGroupOf(run: StackRun, prefix: string): Recorded {
  return run.ofType(T.logGroup).find((g) => g.inputs.name === `/aws/apigateway/${prefix}-api-access`)!;
}

/** The alarm's single-metric settings, with its window as period × evaluation periods. */
function pick(i: Record<string, any>) {
  return {
    namespace: i.namespace,
    metricName: i.metricName,
    dimensions: i.dimensions,
    statistic: i.statistic,
    comparisonOperator: i.comparisonOperator,
    threshold: i.threshold,
    window: i.period * i.evaluationPeriods,
    datapointsToAlarm: i.datapointsToAlarm,
    alarmActions: i.alarmActions,
    okActions: i.okActions,
    treatMissingData: i.treatMissingData,
  };
}
