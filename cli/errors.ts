// Errors haumana-ops shows to a user. Each carries a stable machine `code`, the
// exit code it ends the process with, and a message that says what to do. Every
// failure of an AWS request (an AWS error, no network, something that is not AWS
// answering) is turned into one of these by fromAwsError, at the one place requests
// are sent (cli/aws.ts `send`).
import { EXIT, ExitCode } from "./exit-codes";
import { rerunCommand } from "./invocation";

export class CliError extends Error {
  name = "CliError";
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCode = EXIT.FAILURE,
    /** What to do about it; a command to run is the last thing on its line, so it can be copied as is. */
    public hint?: string,
  ) {
    super(message);
  }
  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }
}

export class UsageError extends CliError {
  name = "UsageError";
  constructor(message: string, hint?: string) {
    super(message, "usage", EXIT.USAGE, hint);
  }
}

export class CredentialsError extends CliError {
  name = "CredentialsError";
  constructor(message: string, code: "no_credentials" | "expired_credentials" | "access_denied", hint?: string) {
    super(message, code, EXIT.CREDENTIALS, hint);
  }
}

export class PreconditionError extends CliError {
  name = "PreconditionError";
  constructor(message: string, code: string, hint?: string) {
    super(message, code, EXIT.PRECONDITION, hint);
  }
}

/** A write that needs a yes: declined at the prompt (exit 1), or no terminal to ask on and no --yes (exit 2). */
export class ConfirmationError extends CliError {
  name = "ConfirmationError";
  constructor(message: string, code: "declined" | "confirmation_required", hint?: string) {
    super(message, code, code === "declined" ? EXIT.FAILURE : EXIT.USAGE, hint);
  }
}

/** Ctrl-C at a prompt. */
export class InterruptedError extends CliError {
  name = "InterruptedError";
  constructor(message = "Interrupted: nothing was changed.") {
    super(message, "interrupted", EXIT.INTERRUPTED);
  }
}

/** Where a failed request went and what came back, as cli/aws.ts records it on the SDK's error. */
export interface RequestTrace {
  service: string;
  url: string;
  /** The API operation ("TransactWriteItems"), for errors raised past `send` (code that takes the SDK client itself). */
  operation?: string;
  status?: number;
  contentType?: string;
  /** The start of a response body that was not AWS's JSON or XML. */
  body?: string;
}

export const TRACE = Symbol.for("haumana-ops.requestTrace");

export class AwsRequestError extends CliError {
  name = "AwsRequestError";
  constructor(
    message: string,
    readonly operation: string,
    readonly awsName: string,
    code = "aws_error",
    hint?: string,
  ) {
    super(message, code, EXIT.FAILURE, hint);
  }
}

/** The IAM action each request needs, for the AccessDenied message. */
export const IAM_ACTIONS: Record<string, string> = {
  GetCallerIdentity: "sts:GetCallerIdentity",
  DescribeBudget: "budgets:ViewBudget",
  DescribeNotificationsForBudget: "budgets:ViewBudget",
  DescribeSubscribersForNotification: "budgets:ViewBudget",
  CreateBudget: "budgets:ModifyBudget",
  UpdateBudget: "budgets:ModifyBudget",
  CreateNotification: "budgets:ModifyBudget",
  UpdateNotification: "budgets:ModifyBudget",
  DeleteNotification: "budgets:ModifyBudget",
  CreateSubscriber: "budgets:ModifyBudget",
  UpdateSubscriber: "budgets:ModifyBudget",
  DeleteSubscriber: "budgets:ModifyBudget",
  ListCostAllocationTags: "ce:ListCostAllocationTags",
  UpdateCostAllocationTagsStatus: "ce:UpdateCostAllocationTagsStatus",
  GetCostAndUsage: "ce:GetCostAndUsage",
  GetCostForecast: "ce:GetCostForecast",
  FilterLogEvents: "logs:FilterLogEvents",
  DescribeLogGroups: "logs:DescribeLogGroups",
  DescribeLogStreams: "logs:DescribeLogStreams",
  DescribeAlarms: "cloudwatch:DescribeAlarms",
  GetMetricData: "cloudwatch:GetMetricData",
  // user show|export|delete: the user's Cognito user and data
  ListUsers: "cognito-idp:ListUsers",
  AdminGetUser: "cognito-idp:AdminGetUser",
  AdminDeleteUser: "cognito-idp:AdminDeleteUser",
  Query: "dynamodb:Query",
  GetItem: "dynamodb:GetItem",
  UpdateItem: "dynamodb:UpdateItem",
  BatchWriteItem: "dynamodb:BatchWriteItem",
  // preflight: read-only look-ups of names
  DescribeTable: "dynamodb:DescribeTable",
  ListTagsOfResource: "dynamodb:ListTagsOfResource",
  GetFunction: "lambda:GetFunction",
  ListTagsForResource: "logs:ListTagsForResource",
  GetRole: "iam:GetRole",
  ListUserPools: "cognito-idp:ListUserPools",
  DescribeUserPool: "cognito-idp:DescribeUserPool",
  ListIdentityPools: "cognito-identity:ListIdentityPools",
  DescribeIdentityPool: "cognito-identity:DescribeIdentityPool",
  GetRestApis: "apigateway:GET",
  GetRestApi: "apigateway:GET",
  GetStage: "apigateway:GET",
  GetDomainName: "apigateway:GET",
  DescribeStacks: "cloudformation:DescribeStacks",
  GetDashboard: "cloudwatch:GetDashboard",
  ListTopics: "sns:ListTopics",
  // migrate (DescribeTable, ListUsers, GetItem and Query above): the old tables are read, the stack's written through the sync code's Store
  Scan: "dynamodb:Scan",
  BatchGetItem: "dynamodb:BatchGetItem",
  PutItem: "dynamodb:PutItem",
  TransactWriteItems: "dynamodb:PutItem and dynamodb:UpdateItem",
};

/** What the request was sent with, for messages that say what to check. */
export interface RequestSetting {
  /** The profile in use: --profile, else AWS_PROFILE. */
  profile?: string;
  /** AWS_ENDPOINT_URL, when set. */
  endpointOverride?: string;
}

function credentialHelp(s: RequestSetting): string {
  if (s.profile) {
    return (
      `The profile in use is "${s.profile}": sign in with \`aws sso login --profile ${s.profile}\` (SSO) or check its entry in ~/.aws/config ` +
      "and ~/.aws/credentials; or pass another one with --profile."
    );
  }
  return (
    "Sign in (for example `aws sso login --profile NAME`) and run again with --profile NAME, " +
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys)."
  );
}

const DEBUG_HINT = () => `To see each request and response: ${rerunCommand("--debug")}`;

const EXPIRED = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);

/** Node's codes for a request that never got an answer, and what each means. */
const NETWORK_CODES: Record<string, string> = {
  ENOTFOUND: "the host name does not resolve (DNS)",
  EAI_AGAIN: "the host name could not be resolved (DNS did not answer)",
  ECONNREFUSED: "nothing is listening there (connection refused)",
  ECONNRESET: "the connection was reset",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  EPIPE: "the connection was closed while sending",
  ECONNABORTED: "the connection was aborted",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate could not be verified",
  SELF_SIGNED_CERT_IN_CHAIN: "its TLS certificate chain is self-signed (a proxy intercepting TLS?)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another host",
};

function networkCause(e: { name?: string; code?: string; message?: string }): string | undefined {
  if (e.code && NETWORK_CODES[e.code]) return NETWORK_CODES[e.code];
  if (e.name === "TimeoutError" || e.name === "RequestTimeout" || /socket hang up|timed? ?out/i.test(e.message ?? "")) return "no answer in time";
  return undefined;
}

function checkWhere(s: RequestSetting): string {
  return s.endpointOverride
    ? `AWS_ENDPOINT_URL is set to ${s.endpointOverride}: is that server running and does it answer this API?`
    : "Check the network connection (and HTTPS_PROXY if you use a proxy).";
}

function excerpt(body: string): string {
  const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return text.length > 160 ? text.slice(0, 159) + "…" : text;
}

/** The operation a traced request error came from (see RequestTrace.operation). */
export function tracedOperation(err: unknown): string | undefined {
  return (err as any)?.[TRACE]?.operation || undefined;
}

/** Turns an error thrown while sending `operation` into a CliError. */
export function fromAwsError(err: unknown, operation: string, setting: RequestSetting = {}): CliError {
  if (err instanceof CliError) return err;
  const e = (err ?? {}) as { name?: string; message?: string; Code?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name || e.Code || "Error";
  const message = (e.message || String(err)).split("\n")[0];
  const action = IAM_ACTIONS[operation] ?? `the permission for ${operation}`;
  const trace = (err as any)?.[TRACE] as RequestTrace | undefined;
  const called = trace ? `${operation} (${trace.service} at ${trace.url})` : operation;

  if (name === "CredentialsProviderError" || name === "TokenProviderError" || /could not load credentials|could not resolve credentials/i.test(message)) {
    return new CredentialsError(`No usable AWS credentials for ${operation} (${action}): ${message}.`, "no_credentials", credentialHelp(setting));
  }
  const network = networkCause(e);
  if (network && !e.$fault) {
    return new AwsRequestError(
      `${called} could not be reached: ${network} (${e.code ?? name}: ${message}).`,
      operation,
      name,
      "network_error",
      `${checkWhere(setting)} ${DEBUG_HINT()}`,
    );
  }
  if (trace?.body !== undefined && (!e.$fault || name === "SyntaxError" || name === "Error")) {
    // The answer was not AWS's: an HTML error page, a proxy's or captive portal's page, an emulator lacking the API.
    const status = trace.status ? `HTTP ${trace.status}` : "an answer";
    return new AwsRequestError(
      `${called} answered with ${status}${trace.contentType ? ` (${trace.contentType})` : ""} that is not an AWS response: "${excerpt(trace.body)}".`,
      operation,
      name,
      "unexpected_response",
      `${checkWhere(setting)} ${DEBUG_HINT()}`,
    );
  }
  if (EXPIRED.has(name) || /token.*(expired|invalid)|expired.*token/i.test(message)) {
    return new CredentialsError(`AWS rejected the credentials: ${name}: ${message}`, "expired_credentials", `Refresh them. ${credentialHelp(setting)}`);
  }
  if (/not enabled for cost explorer/i.test(message)) {
    return new PreconditionError(
      `Cost Explorer is not enabled for this account (${operation}: ${message}).`,
      "cost_explorer_disabled",
      "Open Billing and Cost Management → Cost Explorer in the console once to enable it; data appears within 24 hours.",
    );
  }
  if (name === "AccessDeniedException" || name === "AccessDenied" || name === "UnauthorizedOperation") {
    return new CredentialsError(
      `Access denied: ${operation} needs the IAM permission ${action}.`,
      "access_denied",
      `Grant ${action} to the identity you are using (see \`aws sts get-caller-identity\`), or use a profile that has it. AWS said: ${message}`,
    );
  }
  if (!e.$fault && !e.$metadata) {
    // Not an AWS error at all: say what was being done, and how to see more.
    return new AwsRequestError(`${called} failed before AWS answered: ${name}: ${message}`, operation, name, "request_failed", DEBUG_HINT());
  }
  return new AwsRequestError(`${operation} failed: ${name}: ${message}`, operation, name);
}
