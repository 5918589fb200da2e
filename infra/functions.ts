// Owns the Lambda functions: for each one its log group, its role with only what
// that function needs, and the function itself running the bundle from package.ts.
// The environment variables set here are the handlers' contract (they read them
// once at load and fail fast when one is missing).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GOOGLE_ISSUERS, GOOGLE_JWKS_URI } from "../lib/google";
import { FUNCTION_NAMES, type FunctionName, type ResourceNames } from "../lib/names";
import { functionArchive } from "./package";

export interface TableRef {
  name: pulumi.Input<string>;
  arn: pulumi.Input<string>;
}

export interface FunctionsArgs {
  names: ResourceNames;
  logRetentionDays: number;
  /** Audiences the authorizer and auth-sync accept. */
  googleClientIds: string[];
  userPool: { id: pulumi.Input<string>; arn: pulumi.Input<string> };
  piecesTable: TableRef;
  sessionsTable: TableRef;
}

/** The item actions the sync code uses (transactions are made of these). */
export const TABLE_ACTIONS = [
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:ConditionCheckItem",
  "dynamodb:Query",
  "dynamodb:BatchGetItem",
  "dynamodb:BatchWriteItem",
];

export const USER_POOL_ACTIONS = [
  "cognito-idp:AdminGetUser",
  "cognito-idp:AdminCreateUser",
  "cognito-idp:AdminUpdateUserAttributes",
];

interface Statement {
  Effect: "Allow";
  Action: string[];
  Resource: pulumi.Input<string>[];
}

interface FunctionSpec {
  memorySize: number;
  /** Seconds. API Gateway gives up on an integration after 29. */
  timeout: number;
  environment: Record<string, pulumi.Input<string>>;
  statements: Statement[];
}

export class Functions extends pulumi.ComponentResource {
  readonly functions: Record<FunctionName, aws.lambda.Function>;
  readonly logGroups: Record<FunctionName, aws.cloudwatch.LogGroup>;

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("haumana:infra:Functions", name, {}, opts);

    const auth = {
      AUTH_AUDIENCES: args.googleClientIds.join(","),
      AUTH_ISSUERS: GOOGLE_ISSUERS.join(","),
      AUTH_JWKS_URI: GOOGLE_JWKS_URI,
    };
    // Both sync functions use both tables: the user's change counter lives in the
    // pieces table and a sessions write takes the next number from it.
    const tables = {
      PIECES_TABLE: args.piecesTable.name,
      SESSIONS_TABLE: args.sessionsTable.name,
    };
    const tableStatement: Statement = {
      Effect: "Allow",
      Action: TABLE_ACTIONS,
      Resource: [args.piecesTable, args.sessionsTable].flatMap((t) => [
        t.arn,
        pulumi.interpolate`${t.arn}/index/*`,
      ]),
    };
    const specs: Record<FunctionName, FunctionSpec> = {
      authorizer: { memorySize: 256, timeout: 10, environment: auth, statements: [] },
      "auth-sync": {
        memorySize: 256,
        timeout: 15,
        environment: { USER_POOL_ID: args.userPool.id, ...auth },
        statements: [{ Effect: "Allow", Action: USER_POOL_ACTIONS, Resource: [args.userPool.arn] }],
      },
      "sync-pieces": { memorySize: 512, timeout: 29, environment: tables, statements: [tableStatement] },
      "sync-sessions": { memorySize: 512, timeout: 29, environment: tables, statements: [tableStatement] },
    };

    const functions = {} as Record<FunctionName, aws.lambda.Function>;
    const logGroups = {} as Record<FunctionName, aws.cloudwatch.LogGroup>;
    for (const fn of FUNCTION_NAMES) {
      const spec = specs[fn];
      // Created by the program (not by Lambda on first write) so it has a
      // retention period and tags.
      const logGroup = new aws.cloudwatch.LogGroup(
        `${fn}-logs`,
        { name: args.names.logGroup(fn), retentionInDays: args.logRetentionDays },
        { parent: this },
      );
      const role = new aws.iam.Role(
        `${fn}-role`,
        {
          name: args.names.role(fn),
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
            ],
          }),
        },
        { parent: this },
      );
      const policy = new aws.iam.RolePolicy(
        `${fn}-policy`,
        {
          role: role.id,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                // The group's streams; the group itself exists already.
                Resource: [pulumi.interpolate`${logGroup.arn}:*`],
              },
              ...spec.statements,
            ],
          }),
        },
        { parent: this },
      );
      functions[fn] = new aws.lambda.Function(
        `${fn}-fn`,
        {
          name: args.names.fn(fn),
          role: role.arn,
          runtime: "nodejs22.x",
          architectures: ["arm64"],
          handler: "index.handler",
          code: functionArchive(fn),
          memorySize: spec.memorySize,
          timeout: spec.timeout,
          environment: { variables: spec.environment },
          loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        },
        { parent: this, dependsOn: [logGroup, policy] },
      );
      logGroups[fn] = logGroup;
    }
    this.functions = functions;
    this.logGroups = logGroups;
    this.registerOutputs({});
  }
}
