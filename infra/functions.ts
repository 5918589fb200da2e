// Owns the Lambda functions: for each one its log group, its role with only what
// that function's code calls (permissions.ts), and the function itself running the
// bundle from package.ts, with the timeout lib/limits.ts sets.
// The environment variables set here are the handlers' contract (they read them
// once at load and fail fast when one is missing).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EXPORT_KEY_PREFIX, exportObjectTagging } from "../lib/exports";
import { GOOGLE_ISSUERS, GOOGLE_JWKS_URI } from "../lib/google";
import { FUNCTION_TIMEOUT_SECONDS } from "../lib/limits";
import { FUNCTION_NAMES, type FunctionName, type ResourceNames } from "../lib/names";
import { PIECES_TABLE, SESSIONS_TABLE } from "../lib/tables";
import type { TagSet } from "../lib/tags";
import { functionArchive } from "./package";
import { actionsOf, INDEX_ACTIONS, sdkCalls } from "./permissions";

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
  /** The bucket exports go through (infra/exports.ts), and what must exist before a function writes to it. */
  exportBucket: { name: pulumi.Input<string>; arn: pulumi.Input<string>; ready: pulumi.Resource[] };
  /** The stack's tags, which every export object carries too. */
  tags: TagSet;
}

interface Statement {
  Effect: "Allow";
  Action: string[];
  Resource: pulumi.Input<string>[];
}

interface FunctionSpec {
  memorySize: number;
  environment: Record<string, pulumi.Input<string>>;
  /** The tables whose items the function's code reads or writes. */
  tables: TableRef[];
  /** The indexes it queries: a table and the index's name. */
  indexes: { table: TableRef; index: string }[];
  /** The tables it queries without an index (a user's whole partition). */
  queriedTables?: TableRef[];
  /** Whether it calls the user pool. */
  userPool: boolean;
  /** The objects it reads and writes in S3: an ARN pattern (the export prefix of the export bucket). */
  objects?: pulumi.Input<string>;
}

/**
 * The function's grants beyond its logs: the DynamoDB, Cognito and S3 actions its
 * code sends (infra/permissions.ts), on exactly the tables, indexes, pool and
 * objects it uses.
 */
export function grantsFor(
  fn: FunctionName,
  spec: Pick<FunctionSpec, "tables" | "indexes" | "queriedTables" | "userPool" | "objects">,
  userPoolArn: pulumi.Input<string>,
): Statement[] {
  const calls = sdkCalls(fn);
  const dynamo = actionsOf(calls, "dynamodb");
  const cognito = actionsOf(calls, "cognito-idp");
  const s3 = actionsOf(calls, "s3");
  const statements: Statement[] = [];
  const onTables = dynamo.filter((a) => !INDEX_ACTIONS.has(a));
  const onIndex = dynamo.filter((a) => INDEX_ACTIONS.has(a));
  const queried = [...spec.indexes.map((i) => pulumi.interpolate`${i.table.arn}/index/${i.index}`), ...(spec.queriedTables ?? []).map((t) => t.arn)];
  if (onTables.length && !spec.tables.length) throw new Error(`functions: ${fn} sends ${onTables.join(", ")} but is given no table`);
  if (onIndex.length && !queried.length) throw new Error(`functions: ${fn} sends ${onIndex.join(", ")} but is given no index or table to query`);
  if (onTables.length) statements.push({ Effect: "Allow", Action: onTables, Resource: spec.tables.map((t) => t.arn) });
  if (onIndex.length) statements.push({ Effect: "Allow", Action: onIndex, Resource: queried });
  if (cognito.length) {
    if (!spec.userPool) throw new Error(`functions: ${fn} calls Cognito but is given no user pool`);
    statements.push({ Effect: "Allow", Action: cognito, Resource: [userPoolArn] });
  }
  if (s3.length) {
    if (!spec.objects) throw new Error(`functions: ${fn} calls S3 but is given no objects`);
    statements.push({ Effect: "Allow", Action: s3, Resource: [spec.objects] });
  }
  return statements;
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
    // sync-sessions also uses the pieces table's items: the user's change counter
    // lives there and a sessions write takes the next number from it. Each queries
    // only its own table's indexes (lib/tables.ts). Both get both names, which the
    // shared store reads at load.
    const tables = {
      PIECES_TABLE: args.piecesTable.name,
      SESSIONS_TABLE: args.sessionsTable.name,
    };
    const specs: Record<FunctionName, FunctionSpec> = {
      authorizer: { memorySize: 256, environment: auth, tables: [], indexes: [], userPool: false },
      "auth-sync": { memorySize: 256, environment: { USER_POOL_ID: args.userPool.id, ...auth }, tables: [], indexes: [], userPool: true },
      "sync-pieces": {
        memorySize: 512,
        environment: tables,
        tables: [args.piecesTable],
        indexes: PIECES_TABLE.indexes.map((i) => ({ table: args.piecesTable, index: i.name })),
        userPool: false,
      },
      "sync-sessions": {
        memorySize: 512,
        environment: tables,
        tables: [args.piecesTable, args.sessionsTable],
        indexes: SESSIONS_TABLE.indexes.map((i) => ({ table: args.sessionsTable, index: i.name })),
        userPool: false,
      },
      // Reads the user's partition of both tables (Query, nothing else) and writes the
      // document under the export prefix, which it presigns a GET of. 1 GB: an export
      // of 10,000 pieces holds about 36 MB of items and text at once (and gets the CPU to match).
      "user-export": {
        memorySize: 1024,
        environment: {
          ...tables,
          EXPORT_BUCKET: args.exportBucket.name,
          EXPORT_OBJECT_TAGGING: exportObjectTagging(args.tags),
        },
        tables: [],
        indexes: [],
        queriedTables: [args.piecesTable, args.sessionsTable],
        userPool: false,
        objects: pulumi.interpolate`${args.exportBucket.arn}/${EXPORT_KEY_PREFIX}*`,
      },
      // Deletes the user's partition of both tables (and writes the deletion record in
      // the pieces table), then the Cognito user.
      "user-delete": {
        memorySize: 512,
        environment: { ...tables, USER_POOL_ID: args.userPool.id },
        tables: [args.piecesTable, args.sessionsTable],
        indexes: [],
        queriedTables: [args.piecesTable, args.sessionsTable],
        userPool: true,
      },
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
              ...grantsFor(fn, spec, args.userPool.arn),
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
          timeout: FUNCTION_TIMEOUT_SECONDS[fn],
          environment: { variables: spec.environment },
          loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
        },
        { parent: this, dependsOn: [logGroup, policy, ...(spec.objects ? args.exportBucket.ready : [])] },
      );
      logGroups[fn] = logGroup;
    }
    this.functions = functions;
    this.logGroups = logGroups;
    this.registerOutputs({});
  }
}
