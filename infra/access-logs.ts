// Owns where the API's access log goes: a log group with retention, and, in the
// stack that manages it, the region's API Gateway CloudWatch role. API Gateway
// writes any stage's logs with that one role, set per account and region; without
// it a stage with access logging cannot be created.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** AWS's managed policy for API Gateway's CloudWatch role (logs of any API in the account). */
export const API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

export interface AccessLogsArgs {
  logGroupName: string;
  retentionInDays: number;
  /** Set the account-level API Gateway CloudWatch role (one stack per account and region). */
  manageAccount: boolean;
  /** Name of that role, when this stack manages it. */
  roleName: string;
}

export class AccessLogs extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** What a stage that logs must wait for (the account setting, when this stack owns it). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: AccessLogsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:AccessLogs", name, {}, opts);
    this.logGroup = new aws.cloudwatch.LogGroup(
      "access-logs",
      { name: args.logGroupName, retentionInDays: args.retentionInDays },
      { parent: this },
    );
    this.ready = [];
    if (args.manageAccount) {
      // Both survive `pulumi destroy` (retainOnDelete): deleting the account
      // resource resets the region's setting, which would stop the logging of every
      // other API in the account, and the setting must never name a deleted role.
      const role = new aws.iam.Role(
        "apigateway-cloudwatch",
        {
          name: args.roleName,
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
        { parent: this, retainOnDelete: true },
      );
      const attachment = new aws.iam.RolePolicyAttachment(
        "apigateway-cloudwatch",
        { role: role.name, policyArn: API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY },
        { parent: this, retainOnDelete: true },
      );
      const account = new aws.apigateway.Account(
        "apigateway-account",
        { cloudwatchRoleArn: role.arn },
        { parent: this, retainOnDelete: true, dependsOn: [attachment] },
      );
      this.ready.push(account);
    }
    this.registerOutputs({ logGroup: this.logGroup.name });
  }
}
