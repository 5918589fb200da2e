// Errors haumana-ops shows to a user. Each carries a stable machine `code`, the
// exit code it ends the process with, and a message that says what to do. AWS SDK
// errors are turned into these at the one place requests are sent (cli/aws.ts).
import { EXIT, ExitCode } from "./exit-codes";

export class CliError extends Error {
  name = "CliError";
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCode = EXIT.FAILURE,
    readonly hint?: string,
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

export class AwsRequestError extends CliError {
  name = "AwsRequestError";
  constructor(
    message: string,
    readonly operation: string,
    readonly awsName: string,
  ) {
    super(message, "aws_error", EXIT.FAILURE);
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
};

const CREDENTIAL_HELP =
  "Sign in with `aws sso login --profile <name>` and set AWS_PROFILE=<name>, " +
  "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys).";

const EXPIRED = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
]);

/** Turns an error thrown while sending `operation` into a CliError. */
export function fromAwsError(err: unknown, operation: string): CliError {
  if (err instanceof CliError) return err;
  const e = (err ?? {}) as { name?: string; message?: string; Code?: string };
  const name = e.name || e.Code || "Error";
  const message = (e.message || String(err)).split("\n")[0];
  const action = IAM_ACTIONS[operation] ?? `the permission for ${operation}`;

  if (name === "CredentialsProviderError" || name === "TokenProviderError" || /could not load credentials/i.test(message)) {
    return new CredentialsError(`No usable AWS credentials for ${operation} (${action}): ${message}.`, "no_credentials", CREDENTIAL_HELP);
  }
  if (EXPIRED.has(name) || /token.*(expired|invalid)|expired.*token/i.test(message)) {
    return new CredentialsError(`AWS rejected the credentials: ${name}: ${message}`, "expired_credentials", `Refresh them. ${CREDENTIAL_HELP}`);
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
  return new AwsRequestError(`${operation} failed: ${name}: ${message}`, operation, name);
}
