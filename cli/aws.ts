// AWS access for haumana-ops. The SDK clients are required lazily, inside the
// factories, so `haumana-ops --help` never loads the SDK. Budgets and Cost
// Explorer are global billing services answered in us-east-1, whatever the
// stack's region. Credentials come from the standard chain (AWS_PROFILE, env,
// SSO, ...). The SDK itself honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>),
// which is how the tests point the CLI at moto.
import type { BudgetsClient } from "@aws-sdk/client-budgets";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { CostExplorerClient } from "@aws-sdk/client-cost-explorer";
import type { STSClient } from "@aws-sdk/client-sts";
import { fromAwsError } from "./errors";

export const BILLING_REGION = "us-east-1";

/** What an action needs of a client: the SDK's own `send`, so tests can inject mocks. */
export interface Sender {
  send(command: any): Promise<any>;
}

export function budgetsClient(): BudgetsClient {
  const { BudgetsClient } = require("@aws-sdk/client-budgets") as typeof import("@aws-sdk/client-budgets");
  return new BudgetsClient({ region: BILLING_REGION });
}

export function costExplorerClient(): CostExplorerClient {
  const { CostExplorerClient } = require("@aws-sdk/client-cost-explorer") as typeof import("@aws-sdk/client-cost-explorer");
  return new CostExplorerClient({ region: BILLING_REGION });
}

export function stsClient(): STSClient {
  const { STSClient } = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  return new STSClient({ region: BILLING_REGION });
}

/** CloudWatch (alarms, metrics) in the stack's region. */
export function cloudWatchClient(region: string): CloudWatchClient {
  const { CloudWatchClient } = require("@aws-sdk/client-cloudwatch") as typeof import("@aws-sdk/client-cloudwatch");
  return new CloudWatchClient({ region });
}

/** CloudWatch Logs (the functions' and the API's log groups) in the stack's region. */
export function cloudWatchLogsClient(region: string): CloudWatchLogsClient {
  const { CloudWatchLogsClient } = require("@aws-sdk/client-cloudwatch-logs") as typeof import("@aws-sdk/client-cloudwatch-logs");
  return new CloudWatchLogsClient({ region });
}

/** The operation name of an SDK command ("DescribeBudgetCommand" → "DescribeBudget"). */
export function operationOf(command: object): string {
  return command.constructor.name.replace(/Command$/, "");
}

/** Sends one request; any failure comes back as a CliError naming the operation and its IAM action. */
export async function send<T = any>(client: Sender, command: object): Promise<T> {
  try {
    return (await client.send(command)) as T;
  } catch (err) {
    throw fromAwsError(err, operationOf(command));
  }
}

/** The account id of the caller (sts:GetCallerIdentity, which no policy can deny). */
export async function callerAccountId(sts: Sender): Promise<string> {
  const { GetCallerIdentityCommand } = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const out = await send<{ Account?: string }>(sts, new GetCallerIdentityCommand({}));
  if (!out.Account) throw new Error("sts:GetCallerIdentity returned no account id");
  return out.Account;
}
