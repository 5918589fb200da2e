// `haumana-ops preflight` against a real moto_server holding what the live CDK
// deployment left in the account: its tables, functions and log groups, its user
// pools and the REST API the app calls, tagged by CloudFormation as the CDK stack
// tags them (its log groups, made by Lambda, carry no stack). The clients are the
// CLI's own (cli/aws.ts), pointed at moto through AWS_ENDPOINT_URL.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { APIGatewayClient, CreateDeploymentCommand, CreateRestApiCommand, GetResourcesCommand, PutIntegrationCommand, PutMethodCommand } from "@aws-sdk/client-api-gateway";
import { CloudFormationClient, CreateStackCommand, DeleteStackCommand } from "@aws-sdk/client-cloudformation";
import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CloudWatchClient, PutDashboardCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { parseStackState, preflight, renderPreflight, type PreflightResult } from "../cli/actions/preflight";
import { regionalClients } from "../cli/aws";
import { run } from "../cli/program";
import { colours } from "../cli/ui";
import { LIVE_NAMES, NAME_KINDS } from "../lib/names";
import { APP_ROUTES, ROUTES, type Route } from "../lib/routes";
import { readStackSettings, type StackSettings } from "../lib/stack-config";
import { startMoto, type MotoServer } from "./helpers/moto";
import { resetMoto } from "./helpers/moto-budgets";

const plain = colours(false);
const REGION = "us-west-2";
let moto: MotoServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  delete process.env.AWS_PROFILE;
});

afterAll(async () => {
  process.env = savedEnv;
  await moto?.stop();
});

const c = () => moto.clientConfig;

interface LiveWorld {
  stackId: string;
  apiId: string;
  deploymentId: string;
}

/** What the live CDK stack HaumanaStack left: every name of LIVE_NAMES, tagged as CloudFormation tags. */
async function seedLiveDeployment(opts: { endpointType: "EDGE" | "REGIONAL" }): Promise<LiveWorld> {
  const cfn = new CloudFormationClient(c());
  const stack = await cfn.send(
    new CreateStackCommand({
      StackName: "HaumanaStack",
      TemplateBody: JSON.stringify({ Resources: { Marker: { Type: "AWS::SNS::Topic", Properties: { TopicName: "haumana-marker" } } } }),
    }),
  );
  const stackId = stack.StackId!;
  const cfnTags = { "aws:cloudformation:stack-name": "HaumanaStack", "aws:cloudformation:stack-id": stackId };
  const asList = Object.entries(cfnTags).map(([Key, Value]) => ({ Key, Value }));

  const ddb = new DynamoDBClient(c());
  const iam = new IAMClient(c());
  const lambda = new LambdaClient(c());
  const logs = new CloudWatchLogsClient(c());
  const role = await iam.send(new CreateRoleCommand({ RoleName: "HaumanaStack-FunctionRole", AssumeRolePolicyDocument: "{}", Tags: asList }));
  for (const n of LIVE_NAMES) {
    if (n.kind === "dynamodb-table") {
      await ddb.send(
        new CreateTableCommand({
          TableName: n.name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "userId", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }],
          Tags: asList,
        }),
      );
    } else if (n.kind === "lambda-function") {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: n.name,
          Runtime: "nodejs18.x",
          Role: role.Role!.Arn!,
          Handler: "index.handler",
          // An empty zip: moto stores it, nothing runs it.
          Code: { ZipFile: Buffer.from("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", "base64") },
          Tags: cfnTags,
        }),
      );
    } else if (n.kind === "log-group") {
      // Made by Lambda on the first invocation: outside any stack, untagged.
      await logs.send(new CreateLogGroupCommand({ logGroupName: n.name }));
    }
  }
  const cognito = new CognitoIdentityProviderClient(c());
  await cognito.send(new CreateUserPoolCommand({ PoolName: "haumana-users-v2", UserPoolTags: cfnTags }));
  await cognito.send(new CreateUserPoolCommand({ PoolName: "haumana-users" }));

  const apigw = new APIGatewayClient(c());
  const api = await apigw.send(new CreateRestApiCommand({ name: "haumana-api", endpointConfiguration: { types: [opts.endpointType] }, tags: cfnTags }));
  const root = (await apigw.send(new GetResourcesCommand({ restApiId: api.id }))).items!.find((r) => r.path === "/")!;
  await apigw.send(new PutMethodCommand({ restApiId: api.id, resourceId: root.id, httpMethod: "GET", authorizationType: "NONE" }));
  await apigw.send(new PutIntegrationCommand({ restApiId: api.id, resourceId: root.id, httpMethod: "GET", type: "MOCK" }));
  const deployment = await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: "prod" }));
  for (const client of [cfn, ddb, iam, lambda, logs, cognito, apigw]) client.destroy();
  return { stackId, apiId: api.id!, deploymentId: deployment.id! };
}

/** `cdk destroy` of a stack whose every resource has RemovalPolicy RETAIN: the stack goes, the resources stay. */
async function releaseFromCloudFormation(stackId: string) {
  const cfn = new CloudFormationClient(c());
  await cfn.send(new DeleteStackCommand({ StackName: stackId }));
  cfn.destroy();
}

function check(settings: StackSettings, extra: { routes?: readonly Route[]; state?: ReturnType<typeof parseStackState> } = {}) {
  return preflight(regionalClients(settings.region), { settings, ...extra });
}

const collisions = (r: PreflightResult) => r.names.filter((n) => n.status === "collision");
const prod = () => readStackSettings("prod");
/** The route table: it serves every route the app calls. */
const ALL_APP_ROUTES: readonly Route[] = ROUTES;
/** A table lacking one of them (the app's account deletion). */
const MISSING_ONE: readonly Route[] = ROUTES.filter((r) => !(r.method === "DELETE" && r.path === "users/{userId}"));

beforeEach(async () => {
  await resetMoto(moto.endpoint);
});

test("a stack on the live names collides on every table, function and log group, each named with where it lives (exit 1)", async () => {
  await seedLiveDeployment({ endpointType: "REGIONAL" });
  const settings = { ...prod(), namePrefix: "haumana", adoptRestApiId: undefined };
  const r = await check(settings);
  expect(r.exitCode).toBe(1);
  const byName = Object.fromEntries(collisions(r).map((n) => [n.name, n]));
  expect(Object.keys(byName).sort()).toEqual(
    [
      "haumana-pieces",
      "haumana-sessions",
      "haumana-sync-pieces",
      "haumana-sync-sessions",
      "haumana-auth-sync",
      "/aws/lambda/haumana-sync-pieces",
      "/aws/lambda/haumana-sync-sessions",
      "/aws/lambda/haumana-auth-sync",
      "haumana-users",
      "haumana-api",
    ].sort(),
  );
  expect(r.liveNames.sort()).toEqual(Object.keys(byName).sort());
  expect(byName["haumana-pieces"].found).toEqual([
    {
      id: "haumana-pieces",
      arn: `arn:aws:dynamodb:${REGION}:123456789012:table/haumana-pieces`,
      owner: { cloudFormationStack: "HaumanaStack", cloudFormationStatus: "CREATE_COMPLETE" },
    },
  ]);
  expect(byName["haumana-sync-pieces"].found[0].owner?.cloudFormationStack).toBe("HaumanaStack");
  expect(byName["/aws/lambda/haumana-sync-pieces"].found[0].owner).toEqual({});
  // The orphaned pool: AWS allows the duplicate name, the report says why it matters.
  expect(byName["haumana-users"]).toMatchObject({ kind: "user-pool", unique: false });

  const text = renderPreflight(r, plain);
  expect(text).toMatch(/✗\s+DynamoDB table\s+haumana-pieces\s+exists: arn:aws:dynamodb:us-west-2:123456789012:table\/haumana-pieces \(CloudFormation stack HaumanaStack, CREATE_COMPLETE\)/);
  expect(text).toMatch(/✗\s+CloudWatch log group\s+\/aws\/lambda\/haumana-auth-sync\s+exists: .*\(outside any stack\)/);
  expect(text).toMatch(/✗\s+Cognito user pool\s+haumana-users\s+exists: .*look-ups by name become ambiguous/);
  expect(text).toMatch(/✓\s+Lambda function\s+haumana-authorizer\s+free/);
  expect(text).toContain("Preflight failed: 10 names in use");
});

test("prod's names collide with nothing the live deployment holds; the API is refused while CloudFormation still holds it", async () => {
  const live = await seedLiveDeployment({ endpointType: "REGIONAL" });
  const r = await check(prod(), { routes: ALL_APP_ROUTES });
  expect(collisions(r)).toEqual([]);
  expect(r.names.every((n) => n.status === "free")).toBe(true);
  expect(r.names.map((n) => n.kind)).toEqual(expect.arrayContaining(Object.keys(NAME_KINDS).filter((k) => k !== "api-domain")));
  expect(r.adopt).toMatchObject({ restApiId: "vageu42qbg", status: "missing" });
  expect(r.exitCode).toBe(1);

  // The same check against the id moto gave the live API.
  const held = await check({ ...prod(), adoptRestApiId: live.apiId }, { routes: ALL_APP_ROUTES });
  expect(held.adopt).toMatchObject({
    restApiId: live.apiId,
    status: "held-by-cloudformation",
    name: "haumana-api",
    owner: { cloudFormationStack: "HaumanaStack", cloudFormationStatus: "CREATE_COMPLETE" },
    deploymentId: live.deploymentId,
  });
  expect(held.exitCode).toBe(1);
  expect(renderPreflight(held, plain)).toMatch(/✗ adopt REST API .*held-by-cloudformation: still in CloudFormation stack HaumanaStack.*release it first/);
  // The live API keeps its old name; this stack's API name is not taken by it.
  expect(held.names.find((n) => n.kind === "rest-api")).toMatchObject({ name: "haumana-prod-api", status: "free" });
});

test("released (stack deleted, resources retained) and regional: ready, with the deployment to roll back to; every app route must be in the table", async () => {
  const live = await seedLiveDeployment({ endpointType: "REGIONAL" });
  await releaseFromCloudFormation(live.stackId);
  const settings = { ...prod(), adoptRestApiId: live.apiId };

  const ready = await check(settings, { routes: ALL_APP_ROUTES });
  expect(ready.adopt).toMatchObject({ status: "ready", deploymentId: live.deploymentId, endpointTypes: ["REGIONAL"] });
  expect(ready.adopt!.owner).toEqual({ cloudFormationStack: "HaumanaStack", cloudFormationStatus: "DELETE_COMPLETE" });
  expect(ready.unservedAppRoutes).toEqual([]);
  expect(ready.exitCode).toBe(0);
  expect(renderPreflight(ready, plain)).toContain(`stage prod serves deployment ${live.deploymentId} now (the rollback target)`);

  // The table as it is serves them all; one lacking a route would break it at the app's URL.
  expect(APP_ROUTES.length).toBe(6);
  expect((await check(settings)).unservedAppRoutes).toEqual([]);
  const lacking = await check(settings, { routes: MISSING_ONE });
  expect(lacking.unservedAppRoutes).toEqual(["DELETE /users/{userId}"]);
  expect(lacking.exitCode).toBe(1);
  expect(renderPreflight(lacking, plain)).toMatch(/✗ routes the app calls that the route table does not serve: DELETE \/users\/\{userId\}.*would break them/);
});

test("an edge-optimized API to adopt is refused with the command that converts it", async () => {
  const live = await seedLiveDeployment({ endpointType: "EDGE" });
  await releaseFromCloudFormation(live.stackId);
  const r = await check({ ...prod(), adoptRestApiId: live.apiId }, { routes: ALL_APP_ROUTES });
  expect(r.adopt).toMatchObject({ status: "not-regional", endpointTypes: ["EDGE"] });
  expect(r.adopt!.detail).toContain(
    `aws apigateway update-rest-api --rest-api-id ${live.apiId} --patch-operations op=replace,path=/endpointConfiguration/types/EDGE,value=REGIONAL`,
  );
  expect(r.exitCode).toBe(1);
});

test("leftovers of an earlier attempt collide (ops names too); with the stack's exported state the ones it holds are its own", async () => {
  const dev = readStackSettings("dev");
  const ddb = new DynamoDBClient(c());
  await ddb.send(
    new CreateTableCommand({
      TableName: "haumana-dev-pieces",
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "userId", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }],
    }),
  );
  ddb.destroy();
  const logs = new CloudWatchLogsClient(c());
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/aws/lambda/haumana-dev-sync-pieces" }));
  logs.destroy();
  // The ops resources' names are checked too (lib/stack-names.ts).
  const sns = new SNSClient(c());
  await sns.send(new CreateTopicCommand({ Name: "haumana-dev-alarms" }));
  sns.destroy();
  const cw = new CloudWatchClient(c());
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: "Haumana-dev-API-5XX",
      Namespace: "AWS/ApiGateway",
      MetricName: "5XXError",
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: "GreaterThanThreshold",
    }),
  );
  await cw.send(new PutDashboardCommand({ DashboardName: "Haumana-dev", DashboardBody: JSON.stringify({ widgets: [] }) }));
  cw.destroy();

  const r = await check(dev, { routes: MISSING_ONE });
  expect(collisions(r).map((n) => `${n.kind} ${n.name}`).sort()).toEqual([
    "cloudwatch-alarm Haumana-dev-API-5XX",
    "cloudwatch-dashboard Haumana-dev",
    "dynamodb-table haumana-dev-pieces",
    "log-group /aws/lambda/haumana-dev-sync-pieces",
    "sns-topic haumana-dev-alarms",
  ]);
  expect(renderPreflight(r, plain)).toMatch(/✗\s+SNS topic\s+haumana-dev-alarms\s+exists: arn:aws:sns:us-west-2:123456789012:haumana-dev-alarms\n/);
  expect(r.exitCode).toBe(1);
  // Dev adopts nothing: the routes the table lacks are reported, not blocking.
  expect(r.adopt).toBeUndefined();
  expect(renderPreflight(r, plain)).toMatch(/! routes the app calls that the route table does not serve/);

  const exported = JSON.stringify({
    version: 3,
    deployment: {
      resources: [
        { urn: "urn:pulumi:dev::haumana::aws:dynamodb/table:Table::pieces-table", type: "aws:dynamodb/table:Table", id: "haumana-dev-pieces" },
        { urn: "urn:pulumi:dev::haumana::aws:cloudwatch/logGroup:LogGroup::sync-pieces-logs", type: "aws:cloudwatch/logGroup:LogGroup", id: "/aws/lambda/haumana-dev-sync-pieces" },
      ],
    },
  });
  const owned = await check(dev, { state: parseStackState(exported, "state.json") });
  expect(owned.names.filter((n) => n.status === "this-stack").map((n) => n.name).sort()).toEqual(["/aws/lambda/haumana-dev-sync-pieces", "haumana-dev-pieces"]);
  expect(owned.collisions).toBe(3);
});

test("the command: pure JSON on stdout under --json, --state from a file, exit codes", async () => {
  await seedLiveDeployment({ endpointType: "REGIONAL" });
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) }, env: process.env } };
  };
  const a = io();
  expect(await run(["node", "haumana-ops", "preflight", "--stack", "prod", "--json"], a.io)).toBe(1);
  const json = JSON.parse(a.out.join(""));
  expect(json).toMatchObject({ stack: "prod", region: REGION, collisions: 0, adopt: { restApiId: "vageu42qbg", status: "missing" }, ok: false });
  expect(json.exitCode).toBeUndefined();
  expect(a.err.join("")).toContain(`AWS_ENDPOINT_URL is set: sending AWS requests to ${moto.endpoint}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preflight-"));
  const bad = path.join(dir, "bad.json");
  fs.writeFileSync(bad, "{}");
  const b = io();
  expect(await run(["node", "haumana-ops", "preflight", "--stack", "dev", "--state", bad], b.io)).toBe(2);
  expect(b.err.join("")).toMatch(/no deployment.resources: pass the output of `pulumi stack export/);
  const c2 = io();
  expect(await run(["node", "haumana-ops", "preflight", "--stack", "nope"], c2.io)).toBe(2);
  fs.rmSync(dir, { recursive: true, force: true });
});
