// AWS access for haumana-ops: every SDK client is made by createClient, which
// applies the global --profile, --region and --debug, and records where each
// request went so that a failure can say what was called, where, and what came
// back (cli/errors.ts fromAwsError). Every request goes through `send`, which turns
// any failure into a CliError. The SDK packages are required lazily, inside the
// factories, so `haumana-ops --help` never loads the SDK.
//
// Budgets and Cost Explorer are global billing services answered in us-east-1,
// whatever the stack's region or --region. Credentials come from the standard chain
// (--profile / AWS_PROFILE, environment, SSO, ...). The SDK itself honours
// AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is how the tests point
// the CLI at moto.
import type { BudgetsClient } from "@aws-sdk/client-budgets";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { STSClient } from "@aws-sdk/client-sts";
import { Readable } from "node:stream";
import { CliError, fromAwsError, RequestSetting, RequestTrace, TRACE, tracedOperation } from "./errors";

export const BILLING_REGION = "us-east-1";

/** What an action needs of a client: the SDK's own `send`, so tests can inject mocks. */
export interface Sender {
  send(command: any): Promise<any>;
}

export interface AwsSettings {
  /** --profile: a named profile of ~/.aws/config (else AWS_PROFILE, else the default chain). */
  profile?: string;
  /** --region: the region of regional services (default: the stack's aws:region). */
  region?: string;
  /** --debug: receives each request and response as lines of text. */
  debug?: (line: string) => void;
}

let settings: AwsSettings = {};

/** Set once per run from the global options (cli/program.ts). */
export function configureAws(s: AwsSettings): void {
  settings = { ...s };
}

export function awsSettings(): Readonly<AwsSettings> {
  return settings;
}

/** The region for a regional service (DynamoDB, Lambda, Logs, ...): --region, else the stack's. */
export function regionFor(stackRegion: string): string {
  return settings.region ?? stackRegion;
}

type ClientClass<C, X> = new (config: { region: string; profile?: string } & X) => C;

/**
 * An SDK client with the run's --profile and --debug, for `region` (and any other
 * client settings in `extra`). New commands make their clients here:
 * `createClient(CloudWatchLogsClient, regionFor(stack.region))`.
 */
export function createClient<C extends object, X extends object = {}>(Client: ClientClass<C, X>, region: string, extra?: X): C {
  const client = new Client({ ...(extra as X), region, ...(settings.profile ? { profile: settings.profile } : {}) });
  traceRequests(client as any, settings.debug);
  return client;
}

export function budgetsClient(): BudgetsClient {
  const { BudgetsClient } = require("@aws-sdk/client-budgets") as typeof import("@aws-sdk/client-budgets");
  return createClient(BudgetsClient, BILLING_REGION);
}

export function costExplorerClient(): CostExplorerClient {
  const { CostExplorerClient } = require("@aws-sdk/client-cost-explorer") as typeof import("@aws-sdk/client-cost-explorer");
  return createClient(CostExplorerClient, BILLING_REGION);
}

/** STS answers in every region: pass regionFor(stack.region); without one, --region, else us-east-1. */
export function stsClient(region: string = settings.region ?? BILLING_REGION): STSClient {
  const { STSClient } = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  return createClient(STSClient, region);
}

/** CloudWatch (alarms, metrics) in the stack's region (or --region). */
export function cloudWatchClient(stackRegion: string): CloudWatchClient {
  const { CloudWatchClient } = require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch");
  return createClient(CloudWatchClient, regionFor(stackRegion));
}

/** CloudWatch Logs (the functions' and the API's log groups) in the stack's region (or --region). */
export function cloudWatchLogsClient(stackRegion: string): CloudWatchLogsClient {
  const { CloudWatchLogsClient } = require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs");
  return createClient(CloudWatchLogsClient, regionFor(stackRegion));
}

/**
 * The clients `preflight` reads the stack's region (or --region) with; IAM is
 * global. One factory, so a test points them all at one emulator through
 * AWS_ENDPOINT_URL.
 */
export function regionalClients(stackRegion: string) {
  const region = regionFor(stackRegion);
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  const { LambdaClient } = require("@aws-sdk/client-lambda") as typeof import("@aws-sdk/client-lambda");
  const { IAMClient } = require("@aws-sdk/client-iam") as typeof import("@aws-sdk/client-iam");
  const { CognitoIdentityProviderClient } = require("@aws-sdk/client-cognito-identity-provider") as typeof import("@aws-sdk/client-cognito-identity-provider");
  const { CognitoIdentityClient } = require("@aws-sdk/client-cognito-identity") as typeof import("@aws-sdk/client-cognito-identity");
  const { APIGatewayClient } = require("@aws-sdk/client-api-gateway") as typeof import("@aws-sdk/client-api-gateway");
  const { CloudFormationClient } = require("@aws-sdk/client-cloudformation") as typeof import("@aws-sdk/client-cloudformation");
  const { SNSClient } = require("@aws-sdk/client-sns") as typeof import("@aws-sdk/client-sns");
  return {
    dynamodb: createClient(DynamoDBClient, region),
    lambda: createClient(LambdaClient, region),
    logs: cloudWatchLogsClient(stackRegion),
    iam: createClient(IAMClient, BILLING_REGION),
    cognito: createClient(CognitoIdentityProviderClient, region),
    cognitoIdentity: createClient(CognitoIdentityClient, region),
    apigateway: createClient(APIGatewayClient, region),
    cloudformation: createClient(CloudFormationClient, region),
    cloudwatch: cloudWatchClient(stackRegion),
    sns: createClient(SNSClient, region),
  };
}

/**
 * DynamoDB in the stack's region (or --region), set up as the sync functions' client
 * (SYNC_DYNAMODB_CONFIG: one attempt per call, because the sync code's Store
 * retries what is transient itself). AWS_ENDPOINT_URL_DYNAMODB sends only DynamoDB
 * elsewhere.
 */
export function dynamoDbClient(stackRegion: string): DynamoDBClient {
  const { DynamoDBClient } = require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
  const { SYNC_DYNAMODB_CONFIG } = require("../functions/core/routes") as typeof import("../functions/core/routes");
  return createClient(DynamoDBClient, regionFor(stackRegion), SYNC_DYNAMODB_CONFIG);
}

/** Cognito user pools in the stack's region (or --region). */
export function cognitoClient(stackRegion: string): CognitoIdentityProviderClient {
  const { CognitoIdentityProviderClient } = require("@aws-sdk/client-cognito-identity-provider") as typeof import("@aws-sdk/client-cognito-identity-provider");
  return createClient(CognitoIdentityProviderClient, regionFor(stackRegion));
}

/** The operation name of an SDK command ("DescribeBudgetCommand" → "DescribeBudget"). */
export function operationOf(command: object): string {
  return command.constructor.name.replace(/Command$/, "");
}

function requestSetting(): RequestSetting {
  return { profile: settings.profile ?? process.env.AWS_PROFILE, endpointOverride: process.env.AWS_ENDPOINT_URL };
}

/**
 * A failure of a request sent past `send` (code that takes the SDK client itself, as
 * the sync code's Store does) as the CliError `send` would have made of it.
 */
export function requestFailure(err: unknown, operation = tracedOperation(err) ?? "the request"): CliError {
  return fromAwsError(err, operation, requestSetting());
}

/** Sends one request; any failure comes back as a CliError naming the operation, where it went and what to check. */
export async function send<T = any>(client: Sender, command: object): Promise<T> {
  try {
    return (await client.send(command)) as T;
  } catch (err) {
    throw fromAwsError(err, operationOf(command), requestSetting());
  }
}

export interface CallerIdentity {
  account: string;
  /** The identity's ARN (user or assumed role), to say who is acting. */
  arn?: string;
}

/** Who the credentials belong to (sts:GetCallerIdentity, which no policy can deny). */
export async function callerIdentity(sts: Sender): Promise<CallerIdentity> {
  const { GetCallerIdentityCommand } = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const out = await send<{ Account?: string; Arn?: string }>(sts, new GetCallerIdentityCommand({}));
  if (!out.Account) throw new Error("sts:GetCallerIdentity returned no account id");
  return { account: out.Account, ...(out.Arn ? { arn: out.Arn } : {}) };
}

/** The account id of the caller. */
export async function callerAccountId(sts: Sender): Promise<string> {
  return (await callerIdentity(sts)).account;
}

// ---------------------------------------------------------------- request tracing

const TRACE_KEY = "__haumanaOpsTrace";
let requestNumber = 0;
const BODY_LIMIT = 4000;
const SECRET_KEYS = /password|secret|sessiontoken|accesstoken|idtoken|refreshtoken|^token$|credentials|authorization/i;

function header(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  const key = Object.keys(headers ?? {}).find((k) => k.toLowerCase() === name);
  return key ? headers![key] : undefined;
}

/** Bytes as a Buffer, without Buffer.from(u8): that calls valueOf, which the SDK's JSON body adapter warns about. */
function bytes(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

async function collect(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return bytes(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A body as debug output shows it: secrets masked, long ones cut. */
export function redactBody(text: string): string {
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), (k, v) => (k && SECRET_KEYS.test(k) && typeof v === "string" ? "***" : v));
  } catch {
    shown = text.replace(/((?:Password|Secret|Token)[A-Za-z]*=)[^&\s]+/gi, "$1***");
  }
  return shown.length > BODY_LIMIT ? `${shown.slice(0, BODY_LIMIT)}… (${shown.length} characters)` : shown;
}

/**
 * Two middlewares: the inner one (just before the request goes out, once per
 * attempt) notes the URL, status and, for answers that are not AWS's JSON or XML,
 * the body, and prints request and response under --debug; the outer one attaches
 * that note to whatever error finally comes out of `send`.
 */
function traceRequests(client: { config?: { serviceId?: string }; middlewareStack: any }, debug?: (line: string) => void): void {
  const service = client.config?.serviceId ?? client.constructor.name.replace(/Client$/, "");
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const req = args.request;
      if (!req || typeof req.hostname !== "string") return next(args);
      const url = `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ""}${req.path ?? "/"}`;
      const operation = String(context.commandName ?? "").replace(/Command$/, "");
      const trace: RequestTrace = { service, url, operation };
      context[TRACE_KEY] = trace;
      // Requests made together answer in any order: a number pairs each answer with its request.
      const n = ++requestNumber;
      if (debug) {
        debug(`→ #${n} ${service} ${operation}: ${req.method} ${url}`);
        if (typeof req.body === "string") debug(`  ${redactBody(req.body)}`);
        else if (req.body instanceof Uint8Array) debug(`  ${redactBody(bytes(req.body).toString("utf8"))}`);
      }
      const started = Date.now();
      let out: any;
      try {
        out = await next(args);
      } catch (err: any) {
        debug?.(`✗ #${n} ${service} ${operation}: ${err?.code ?? err?.name ?? "Error"}: ${String(err?.message ?? err).split("\n")[0]} (${Date.now() - started} ms)`);
        throw err;
      }
      const res = out?.response;
      if (!res || typeof res.statusCode !== "number") return out;
      const contentType = header(res.headers, "content-type");
      const awsShaped = /json|xml/i.test(contentType ?? "");
      trace.status = res.statusCode;
      if (contentType) trace.contentType = contentType.split(";")[0];
      if (debug || !awsShaped || res.statusCode >= 300) {
        const buf = await collect(res.body);
        res.body = Readable.from([buf]);
        const text = buf.toString("utf8");
        if (!awsShaped) trace.body = text;
        debug?.(`← #${n} ${service} ${operation}: ${res.statusCode} ${trace.contentType ?? ""} (${Date.now() - started} ms)`.replace("  (", " ("));
        if (debug && text) debug(`  ${redactBody(text)}`);
      }
      return out;
    },
    { step: "deserialize", priority: "low", name: "haumanaOpsTraceRequest" },
  );
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      try {
        return await next(args);
      } catch (err) {
        const trace = context[TRACE_KEY];
        if (trace && err && typeof err === "object" && !(TRACE in err)) Object.defineProperty(err, TRACE, { value: trace });
        throw err;
      }
    },
    { step: "initialize", priority: "high", name: "haumanaOpsTraceError" },
  );
}
