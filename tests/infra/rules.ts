// The issue's properties, asserted as rules over every resource one stack
// registers. Used by prod.unit.test.ts and dev.unit.test.ts, one stack per file.
import * as fs from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import { GOOGLE_ISSUERS, GOOGLE_JWKS_URI, GOOGLE_LOGIN_PROVIDER } from "../../lib/google";
import { EXPORT_KEY_PREFIX, EXPORT_RETENTION_DAYS, exportObjectTagging } from "../../lib/exports";
import { API_GATEWAY_TIMEOUT_SECONDS, FUNCTION_TIMEOUT_SECONDS, SYNC_FUNCTION_TIMEOUT_SECONDS } from "../../lib/limits";
import { FUNCTION_NAMES, LIVE_API, LIVE_NAMES, NAME_KINDS, resourceNames, type FunctionName, type NameKind } from "../../lib/names";
import { arnPath, ROUTES, routeKey } from "../../lib/routes";
import { stackPhysicalNames } from "../../lib/stack-names";
import { readStackSettings, repoRoot } from "../../lib/stack-config";
import { attributeDefinitions, CHANGE_INDEX, PIECES_TABLE, SESSIONS_TABLE, TTL_ATTRIBUTE, type TableSchema } from "../../lib/tables";
import { stackTags, TAG_KEYS } from "../../lib/tags";
import { AUTHORIZED_ROUTES } from "../../functions/core/verify";
import { deploymentHash } from "../../infra/api";
import { AUTHORIZER_SCHEME } from "../../infra/openapi";
import { TAGGABLE_TYPES, UNTAGGABLE_TYPES } from "../../infra/tagging";
import { actionsOf, operationOfCommand, sdkCalls, sdkCallsIn } from "../../infra/permissions";
import { METHOD_THROTTLE, methodPath, MINIMUM_COMPRESSION_BYTES, STAGE_REQUEST_LIMIT } from "../../infra/api";
import { runStack, type StackRun } from "./harness";

export const T = {
  provider: "pulumi:providers:aws",
  table: "aws:dynamodb/table:Table",
  fn: "aws:lambda/function:Function",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  userPool: "aws:cognito/userPool:UserPool",
  identityPool: "aws:cognito/identityPool:IdentityPool",
  roleAttachment: "aws:cognito/identityPoolRoleAttachment:IdentityPoolRoleAttachment",
  restApi: "aws:apigateway/restApi:RestApi",
  resource: "aws:apigateway/resource:Resource",
  method: "aws:apigateway/method:Method",
  integration: "aws:apigateway/integration:Integration",
  authorizer: "aws:apigateway/authorizer:Authorizer",
  deployment: "aws:apigateway/deployment:Deployment",
  stage: "aws:apigateway/stage:Stage",
  methodSettings: "aws:apigateway/methodSettings:MethodSettings",
  permission: "aws:lambda/permission:Permission",
  policyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  topic: "aws:sns/topic:Topic",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  bucket: "aws:s3/bucket:Bucket",
  bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  bucketPublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketOwnership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  bucketLifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
};

/** Whether @pulumi/aws's resource class for a type token takes a `tags` input. */
export function acceptsTags(type: string): boolean {
  const m = /^aws:([^/]+)\/[^:]+:(.+)$/.exec(type);
  if (!m) throw new Error(`not an aws resource type: ${type}`);
  const cls = (aws as any)[m[1]]?.[m[2]];
  if (typeof cls !== "function" || cls.__pulumiType !== type) throw new Error(`no @pulumi/aws class for ${type}`);
  return /resourceInputs\["tags"\]\s*=\s*args/.test(cls.toString());
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
}
export const list = (x: string | string[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
export const statements = (doc: unknown): Statement[] => {
  const parsed = typeof doc === "string" ? JSON.parse(doc) : doc;
  return list(parsed.Statement as any) as unknown as Statement[];
};

/** Account-wide names, by resource type: the input holding the name and its kind (lib/names.ts). */
export const NAMED_TYPES: Record<string, { input: string; kind: NameKind }> = Object.fromEntries(
  Object.entries(NAME_KINDS).map(([kind, k]) => [k.pulumiType, { input: k.nameInput, kind: kind as NameKind }]),
);
/** Types whose name input names something inside another resource (a zone's record, a domain's mapping, a certificate's subject). */
export const SCOPED_NAME_TYPES: ReadonlySet<string> = new Set([
  "aws:route53/record:Record",
  "aws:apigateway/basePathMapping:BasePathMapping",
  "aws:acm/certificate:Certificate",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter",
]);
const NAME_INPUT_KEYS = ["name", "identityPoolName", "domainName", "alarmName", "dashboardName", "topicName"];

/** The routes an OpenAPI document defines: "POST /pieces" and its operation. */
export function openApiRoutes(body: string): { key: string; operation: Record<string, any> }[] {
  const doc = JSON.parse(body);
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, operation]) => ({ key: `${method.toUpperCase()} ${path}`, operation })),
  );
}

export function stackRules(stack: string) {
  const settings = readStackSettings(stack);
  const names = resourceNames(settings.namePrefix);
  const tags = stackTags(settings);
  let run: StackRun;
  const aws_ = () => run.resources.filter((r) => r.type.startsWith("aws:"));
  const one = (type: string) => {
    const rs = run.ofType(type);
    expect(rs).toHaveLength(1);
    return rs[0];
  };
  const fnNamed = (fn: FunctionName) => run.ofType(T.fn).find((f) => f.inputs.name === names.fn(fn))!;

  beforeAll(async () => {
    run = await runStack(stack, { stubCode: true });
  });

  describe(`stack ${stack}: tags`, () => {
    test("every AWS type the program uses is classified, and the classification matches @pulumi/aws", () => {
      const types = [...new Set(aws_().map((r) => r.type))].sort();
      expect(types.length).toBeGreaterThan(10);
      for (const type of types) {
        expect({ type, taggable: TAGGABLE_TYPES.has(type) }).toEqual({ type, taggable: acceptsTags(type) });
        expect({ type, classified: TAGGABLE_TYPES.has(type) !== UNTAGGABLE_TYPES.has(type) }).toEqual({ type, classified: true });
      }
    });

    test("every taggable resource carries exactly the stack's tag set", () => {
      const taggable = aws_().filter((r) => acceptsTags(r.type));
      // The API stage and the log groups are the ones people forget.
      expect(taggable.map((r) => r.type)).toEqual(expect.arrayContaining([T.stage, T.logGroup, T.table, T.fn, T.role, T.userPool, T.identityPool, T.restApi, T.bucket]));
      expect(tags).toEqual({ Project: "Haumana", Environment: settings.environment, CostCenter: "Haumana" });
      for (const r of taggable) {
        expect({ resource: `${r.type}::${r.name}`, tags: r.inputs.tags }).toEqual({ resource: `${r.type}::${r.name}`, tags });
      }
      expect(Object.keys(tags)).toEqual([...TAG_KEYS]);
    });

    test("every AWS resource goes through the one explicit provider, in the stack's region", () => {
      const provider = one(T.provider);
      expect(provider.inputs.region).toBe(settings.region);
      expect(provider.inputs.defaultTags).toBeUndefined();
      for (const r of aws_()) expect({ r: r.name, provider: r.provider.split("::").slice(0, -1).join("::") }).toEqual({ r: r.name, provider: provider.urn });
    });
  });

  describe(`stack ${stack}: tables`, () => {
    test("exactly the pieces and sessions tables, named for the stack", () => {
      expect(run.ofType(T.table).map((t) => t.inputs.name).sort()).toEqual([names.piecesTable, names.sessionsTable].sort());
    });

    test("every table: on-demand, PITR, SSE, TTL, byChange LSI; deletion-protected, protected and retained on delete in prod only", () => {
      const schemas = { [names.piecesTable]: PIECES_TABLE, [names.sessionsTable]: SESSIONS_TABLE };
      for (const t of run.ofType(T.table)) {
        const schema = schemas[t.inputs.name];
        expect(t.inputs).toMatchObject({
          billingMode: "PAY_PER_REQUEST",
          pointInTimeRecovery: { enabled: true },
          serverSideEncryption: { enabled: true },
          deletionProtectionEnabled: settings.protectData,
          ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
          hashKey: schema.hashKey,
          rangeKey: schema.rangeKey,
          attributes: attributeDefinitions(schema),
          localSecondaryIndexes: schema.indexes.map((i) => ({ name: i.name, rangeKey: i.rangeKey, projectionType: "KEYS_ONLY" })),
        });
        expect(t.inputs.localSecondaryIndexes[0]).toEqual({ name: CHANGE_INDEX, rangeKey: schema.changeIndex.rangeKey, projectionType: "KEYS_ONLY" });
        expect(t.inputs.globalSecondaryIndexes ?? []).toEqual([]);
        expect({ table: t.inputs.name, protect: t.protect, retainOnDelete: t.retainOnDelete }).toEqual({
          table: t.inputs.name,
          protect: settings.protectData,
          retainOnDelete: settings.protectData,
        });
      }
      expect(settings.protectData).toBe(stack === "prod");
    });
  });

  describe(`stack ${stack}: functions`, () => {
    test("every function (sync, auth, authorizer, account data): nodejs22.x on arm64, index.handler, named for the stack, timeouts from lib/limits.ts", () => {
      const fns = run.ofType(T.fn);
      expect(fns.map((f) => f.inputs.name).sort()).toEqual(FUNCTION_NAMES.map(names.fn).sort());
      for (const f of fns) {
        expect(f.inputs).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler" });
      }
      for (const fn of FUNCTION_NAMES) expect({ fn, timeout: fnNamed(fn).inputs.timeout }).toEqual({ fn, timeout: FUNCTION_TIMEOUT_SECONDS[fn] });
      // The sync functions must end (and answer 503) before API Gateway gives up at 29 s.
      expect(fnNamed("sync-pieces").inputs.timeout).toBe(SYNC_FUNCTION_TIMEOUT_SECONDS);
      expect(fnNamed("sync-sessions").inputs.timeout).toBe(SYNC_FUNCTION_TIMEOUT_SECONDS);
      expect(SYNC_FUNCTION_TIMEOUT_SECONDS).toBeLessThan(API_GATEWAY_TIMEOUT_SECONDS);
      // So do the account-data functions: a slow export or deletion is answered by the function, not by a 504.
      for (const fn of ["user-export", "user-delete"] as const) expect(fnNamed(fn).inputs.timeout).toBeLessThan(API_GATEWAY_TIMEOUT_SECONDS);
    });

    test("every function has its own log group with a retention period, created before it", () => {
      const groups = run.ofType(T.logGroup).filter((g) => g.inputs.name.startsWith("/aws/lambda/"));
      expect(groups).toHaveLength(run.ofType(T.fn).length);
      for (const f of run.ofType(T.fn)) {
        const group = groups.find((g) => g.inputs.name === `/aws/lambda/${f.inputs.name}`);
        expect(group).toBeDefined();
        expect(group!.inputs.retentionInDays).toBe(stack === "prod" ? 30 : 7);
        expect(f.inputs.loggingConfig).toEqual({ logFormat: "Text", logGroup: group!.inputs.name });
        expect(f.dependencies).toContain(group!.urn);
      }
    });

    test("environment variables follow the handlers' contract", async () => {
      const auth = {
        AUTH_AUDIENCES: settings.googleClientIds.join(","),
        AUTH_ISSUERS: GOOGLE_ISSUERS.join(","),
        AUTH_JWKS_URI: GOOGLE_JWKS_URI,
      };
      const tables = { PIECES_TABLE: names.piecesTable, SESSIONS_TABLE: names.sessionsTable };
      const env = (fn: FunctionName) => fnNamed(fn).inputs.environment.variables;
      expect(env("authorizer")).toEqual(auth);
      expect(env("auth-sync")).toEqual({ ...auth, USER_POOL_ID: one(T.userPool).id });
      expect(env("sync-pieces")).toEqual(tables);
      expect(env("sync-sessions")).toEqual(tables);
      expect(env("user-export")).toEqual({ ...tables, EXPORT_BUCKET: one(T.bucket).state.bucket, EXPORT_OBJECT_TAGGING: exportObjectTagging(tags) });
      expect(env("user-delete")).toEqual({ ...tables, USER_POOL_ID: one(T.userPool).id });
    });
  });

  describe(`stack ${stack}: IAM`, () => {
    const allStatements = () =>
      run.ofType(T.rolePolicy).map((p) => ({ policy: p, role: run.ofType(T.role).find((r) => r.id === p.inputs.role)!, statements: statements(p.inputs.policy) }));

    test("no policy grants a wildcard action, or a wildcard resource beyond a log group's streams and the export prefix's objects", () => {
      const groupArns = run.ofType(T.logGroup).map((g) => g.state.arn);
      const exportObjects = `${one(T.bucket).state.arn}/${EXPORT_KEY_PREFIX}*`;
      const policies = allStatements();
      expect(policies.length).toBe(FUNCTION_NAMES.length);
      for (const { statements: ss } of policies) {
        for (const s of ss) {
          expect(s.Effect).toBe("Allow");
          for (const a of list(s.Action)) expect(a).not.toContain("*");
          for (const r of list(s.Resource)) {
            expect(r).not.toBe("*");
            if (r.includes("*")) expect({ resource: r, scoped: groupArns.some((g) => r === `${g}:*`) || r === exportObjects }).toEqual({ resource: r, scoped: true });
          }
        }
      }
    });

    test("each function's role can write only its own logs and touch only the tables, index, pool and objects it uses", () => {
      const pool = one(T.userPool);
      const exportObjects = `${one(T.bucket).state.arn}/${EXPORT_KEY_PREFIX}*`;
      const table = (name: string) => run.ofType(T.table).find((t) => t.inputs.name === name)!.state.arn;
      const withIndex = (name: string, schema: TableSchema) => [table(name), ...schema.indexes.map((i) => `${table(name)}/index/${i.name}`)];
      // sync-pieces never touches the sessions table; sync-sessions takes its change
      // numbers from the counter in the pieces table but queries only its own index
      // (tests/iam-trace.integration.test.ts shows both from the requests the code sends).
      const expected: Record<FunctionName, Record<string, string[]>> = {
        authorizer: {},
        "auth-sync": { "cognito-idp": [pool.state.arn] },
        "sync-pieces": { dynamodb: withIndex(names.piecesTable, PIECES_TABLE).sort() },
        "sync-sessions": { dynamodb: [table(names.piecesTable), ...withIndex(names.sessionsTable, SESSIONS_TABLE)].sort() },
        // The export queries each table's own partition (no index) and writes under the export prefix;
        // the deletion queries and deletes the same partitions, then the Cognito user.
        "user-export": { dynamodb: [table(names.piecesTable), table(names.sessionsTable)].sort(), s3: [exportObjects] },
        "user-delete": { dynamodb: [table(names.piecesTable), table(names.sessionsTable)].sort(), "cognito-idp": [pool.state.arn] },
      };
      for (const fn of FUNCTION_NAMES) {
        const f = fnNamed(fn);
        const role = run.ofType(T.role).find((r) => r.state.arn === f.inputs.role)!;
        expect(role.inputs.name).toBe(names.role(fn));
        expect(statements(role.inputs.assumeRolePolicy)).toEqual([
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
        expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
        expect(run.ofType(T.policyAttachment).filter((a) => a.inputs.role === role.inputs.name)).toEqual([]);
        const policies = run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id);
        expect(policies).toHaveLength(1);
        const bySvc: Record<string, string[]> = {};
        for (const s of statements(policies[0].inputs.policy)) {
          const svcs = new Set(list(s.Action).map((a) => a.split(":")[0]));
          expect(svcs.size).toBe(1);
          const [svc] = svcs;
          bySvc[svc] = [...new Set([...(bySvc[svc] ?? []), ...list(s.Resource)])].sort();
        }
        const group = run.ofType(T.logGroup).find((g) => g.inputs.name === names.logGroup(fn))!;
        expect(bySvc).toEqual({ logs: [`${group.state.arn}:*`], ...expected[fn] });
      }
    });

    test("every IAM action a function gets is one its code calls: derived from the SDK commands in its bundle", () => {
      const granted = (fn: FunctionName) => {
        const role = run.ofType(T.role).find((r) => r.inputs.name === names.role(fn))!;
        return [
          ...new Set(
            run.ofType(T.rolePolicy)
              .filter((p) => p.inputs.role === role.id)
              .flatMap((p) => statements(p.inputs.policy).flatMap((s) => list(s.Action)))
              .filter((a) => !a.startsWith("logs:")),
          ),
        ].sort();
      };
      for (const fn of FUNCTION_NAMES) {
        const calls = sdkCalls(fn);
        expect({ fn, granted: granted(fn) }).toEqual({ fn, granted: [...actionsOf(calls, "dynamodb"), ...actionsOf(calls, "cognito-idp"), ...actionsOf(calls, "s3")].sort() });
      }
      // The export reads (Query) and writes its document; it cannot write the tables.
      expect(granted("user-export")).toEqual(["dynamodb:Query", "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"]);
      // An index gets Query and nothing else.
      for (const p of run.ofType(T.rolePolicy)) {
        for (const s of statements(p.inputs.policy)) {
          if (list(s.Resource).some((r) => r.includes("/index/"))) expect(list(s.Action)).toEqual(["dynamodb:Query"]);
        }
      }
    });

    test("the derivation sees every AWS SDK command functions/ sends, and no function gets one it cannot send", () => {
      // Independent of the bundles: every `new XCommand(` anywhere in functions/.
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const file = path.join(dir, e.name);
          if (e.isDirectory()) walk(file);
          else if (file.endsWith(".ts")) files.push(path.relative(repoRoot(), file));
        }
      };
      walk(path.join(repoRoot(), "functions"));
      const sent = new Set(files.flatMap((f) => [...fs.readFileSync(path.join(repoRoot(), f), "utf8").matchAll(/new ([A-Z][A-Za-z]+Command)\(/g)].map((m) => m[1])));
      const seen = sdkCallsIn(files);
      expect(sent.size).toBeGreaterThan(0);
      expect([...new Set(seen.map((c) => c.command))].sort()).toEqual([...sent].sort());
      // Operations come from the SDK's own classes: a lib-dynamodb command wraps the client's.
      expect(operationOfCommand("@aws-sdk/lib-dynamodb", "GetCommand")).toBe("GetItem");
      expect(operationOfCommand("@aws-sdk/lib-dynamodb", "TransactWriteCommand")).toBe("TransactWriteItems");
      expect(operationOfCommand("@aws-sdk/client-cognito-identity-provider", "AdminGetUserCommand")).toBe("AdminGetUser");
      // A function's bundle holds only its own route's code: the authorizer sends nothing,
      // the sync functions no Cognito call, auth-sync no DynamoDB call.
      expect(sdkCalls("authorizer")).toEqual([]);
      for (const fn of ["sync-pieces", "sync-sessions"] as const) expect(sdkCalls(fn).every((c) => c.service === "dynamodb")).toBe(true);
      expect(sdkCalls("auth-sync").every((c) => c.service === "cognito-idp")).toBe(true);
      // Only the deletion's code deletes: the export and the sync functions carry no BatchWriteItem or AdminDeleteUser.
      for (const fn of FUNCTION_NAMES) {
        const deletes = sdkCalls(fn).some((c) => c.operation === "BatchWriteItem" || c.operation === "AdminDeleteUser");
        expect({ fn, deletes }).toEqual({ fn, deletes: fn === "user-delete" });
      }
      expect(actionsOf(sdkCalls("user-delete"), "cognito-idp")).toEqual(["cognito-idp:AdminDeleteUser"]);
      expect(actionsOf(sdkCalls("auth-sync"), "cognito-idp")).toEqual(["cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminUpdateUserAttributes"]);
    });
  });

  describe(`stack ${stack}: identity`, () => {
    test("user pool: email required and mutable (auth-sync follows Google's), admin-created users only; protected and retained in prod", () => {
      const pool = one(T.userPool);
      expect(pool.inputs.name).toBe(names.userPool);
      expect(pool.inputs.schemas).toEqual([expect.objectContaining({ name: "email", attributeDataType: "String", required: true, mutable: true })]);
      expect(pool.inputs.adminCreateUserConfig).toEqual({ allowAdminCreateUserOnly: true });
      expect(pool.inputs.deletionProtection).toBe(settings.protectData ? "ACTIVE" : "INACTIVE");
      expect(pool.protect).toBe(settings.protectData);
      expect(pool.retainOnDelete).toBe(settings.protectData);
    });

    test("identity pool: no unauthenticated identities, Google login, a role that grants nothing", () => {
      const idp = one(T.identityPool);
      expect(idp.inputs).toMatchObject({
        identityPoolName: names.identityPool,
        allowUnauthenticatedIdentities: false,
        supportedLoginProviders: { [GOOGLE_LOGIN_PROVIDER]: settings.googleClientIds[0] },
      });
      const attachment = one(T.roleAttachment);
      expect(attachment.inputs.identityPoolId).toBe(idp.id);
      expect(Object.keys(attachment.inputs.roles)).toEqual(["authenticated"]);
      const role = run.ofType(T.role).find((r) => r.state.arn === attachment.inputs.roles.authenticated)!;
      expect(role.inputs.name).toBe(names.identityRole);
      expect(statements(role.inputs.assumeRolePolicy)).toEqual([
        {
          Effect: "Allow",
          Principal: { Federated: "cognito-identity.amazonaws.com" },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "cognito-identity.amazonaws.com:aud": idp.id },
            "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
          },
        },
      ]);
      expect(run.ofType(T.rolePolicy).filter((p) => p.inputs.role === role.id)).toEqual([]);
      expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
      expect(role.inputs.inlinePolicies ?? []).toEqual([]);
    });
  });

  describe(`stack ${stack}: API`, () => {
    /** The document the REST API is built from, as API Gateway receives it. */
    const served = () => openApiRoutes(one(T.restApi).inputs.body);

    test("the REST API is defined whole by the document built from the route table, replaced on each change", () => {
      const api = one(T.restApi);
      expect(api.inputs).toMatchObject({ name: names.api, putRestApiMode: "overwrite", endpointConfiguration: { types: "REGIONAL" } });
      expect(JSON.parse(api.inputs.body)).toMatchObject({ openapi: "3.0.1", info: { title: names.api } });
      // Nothing is defined beside the document: a resource made outside it would
      // survive a route's removal from the table (and be wiped by the next overwrite).
      for (const t of [T.resource, T.method, T.integration, T.authorizer]) expect(run.ofType(t)).toEqual([]);
    });

    test("every route of the table, and nothing else, each a Lambda proxy to its function", () => {
      expect(served().map((r) => r.key).sort()).toEqual(ROUTES.map(routeKey).sort());
      for (const route of ROUTES) {
        const op = served().find((r) => r.key === routeKey(route))!;
        expect({ route: op.key, integration: op.operation["x-amazon-apigateway-integration"] }).toEqual({
          route: op.key,
          integration: { type: "aws_proxy", httpMethod: "POST", uri: fnNamed(route.fn).state.invokeArn, passthroughBehavior: "when_no_match" },
        });
      }
    });

    test("every route but /auth/sync uses the authorizer", () => {
      for (const r of served()) {
        const expected = r.key === "POST /auth/sync" ? undefined : [{ [AUTHORIZER_SCHEME]: [] }];
        expect({ route: r.key, security: r.operation.security }).toEqual({ route: r.key, security: expected });
      }
    });

    test("the authorizer's allow policy names exactly the routes behind it (it is cached across routes)", () => {
      const behind = served().filter((r) => r.operation.security).map((r) => r.key).sort();
      expect(AUTHORIZED_ROUTES.map(routeKey).sort()).toEqual(behind);
    });

    test("TOKEN authorizer on the Authorization header, cached 300 s, running the authorizer function", () => {
      const doc = JSON.parse(one(T.restApi).inputs.body);
      expect(doc.components.securitySchemes).toEqual({
        [AUTHORIZER_SCHEME]: {
          type: "apiKey",
          name: "Authorization",
          in: "header",
          "x-amazon-apigateway-authtype": "custom",
          "x-amazon-apigateway-authorizer": { type: "token", authorizerUri: fnNamed("authorizer").state.invokeArn, authorizerResultTtlInSeconds: 300 },
        },
      });
    });

    test("every invoke permission is scoped to this API: its routes, and its authorizers", () => {
      const exec = one(T.restApi).state.executionArn;
      const grants = run.ofType(T.permission).map((p) => `${p.inputs.function} <- ${p.inputs.sourceArn}`).sort();
      expect(grants).toEqual(
        [
          `${names.fn("authorizer")} <- ${exec}/authorizers/*`,
          ...ROUTES.map((r) => `${names.fn(r.fn)} <- ${exec}/*/${r.method}/${arnPath(r.path)}`),
        ].sort(),
      );
      expect(grants).toContain(`${names.fn("sync-pieces")} <- ${exec}/*/POST/pieces`);
      for (const p of run.ofType(T.permission)) {
        expect(p.inputs).toMatchObject({ action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com" });
      }
    });

    test("stage prod with throttling, its deployment made after every invoke permission and named by the API's whole definition", () => {
      const api = one(T.restApi);
      const stage = one(T.stage);
      const deployment = one(T.deployment);
      expect(stage.inputs).toMatchObject({ stageName: "prod", restApi: api.id, deployment: deployment.id });
      const { tags: _t, ...shape } = api.inputs;
      expect(deployment.inputs.triggers).toEqual({ redeployment: deploymentHash(shape) });
      for (const p of run.ofType(T.permission)) expect(deployment.dependencies).toContain(p.urn);
    });

    test("throttling: the stage default applies to each method, so the routes together stay within the stage's limit", () => {
      const throttle = run.ofType(T.methodSettings).find((m) => m.inputs.methodPath === "*/*")!;
      expect(throttle.inputs).toMatchObject({ restApi: one(T.restApi).id, stageName: "prod", methodPath: "*/*" });
      const { throttlingBurstLimit: burst, throttlingRateLimit: rate } = throttle.inputs.settings;
      expect({ burst, rate }).toEqual({ burst: METHOD_THROTTLE.throttlingBurstLimit, rate: METHOD_THROTTLE.throttlingRateLimit });
      // Routes with a limit of their own (the rarely called account routes) get a method setting each.
      const own = run.ofType(T.methodSettings).filter((m) => m.inputs.methodPath !== "*/*");
      expect(own.map((m) => m.inputs.methodPath).sort()).toEqual(ROUTES.filter((r) => r.throttle).map(methodPath).sort());
      const limitOf = (key: string) => {
        const route = ROUTES.find((r) => routeKey(r) === key)!;
        const m = own.find((x) => x.inputs.methodPath === methodPath(route));
        expect(m?.inputs.restApi ?? one(T.restApi).id).toBe(one(T.restApi).id);
        return m ? { burst: m.inputs.settings.throttlingBurstLimit, rate: m.inputs.settings.throttlingRateLimit } : { burst, rate };
      };
      const limits = served().map((r) => limitOf(r.key));
      for (const l of limits) {
        expect(l.burst).toBeGreaterThan(0);
        expect(l.rate).toBeGreaterThan(0);
      }
      expect(limits.reduce((n, l) => n + l.burst, 0)).toBeLessThanOrEqual(STAGE_REQUEST_LIMIT.burst);
      expect(limits.reduce((n, l) => n + l.rate, 0)).toBeLessThanOrEqual(STAGE_REQUEST_LIMIT.ratePerSecond + 1e-9);
      // Each sync route keeps enough for a sync's requests (a burst of at least 5).
      for (const key of ["POST /pieces", "POST /sessions", "POST /auth/sync"]) expect(limitOf(key).burst).toBeGreaterThanOrEqual(5);
    });

    test("responses of 1 KB and more are compressed; a change of the setting redeploys", () => {
      expect(one(T.restApi).inputs.minimumCompressionSize).toBe(String(MINIMUM_COMPRESSION_BYTES));
      expect(MINIMUM_COMPRESSION_BYTES).toBe(1024);
      // The deployment is named by every input of the REST API, this one included.
      const { tags: _t, ...shape } = one(T.restApi).inputs;
      expect(one(T.deployment).inputs.triggers.redeployment).toBe(deploymentHash(shape));
      expect(deploymentHash({ ...shape, minimumCompressionSize: "2048" })).not.toBe(deploymentHash(shape));
    });

    if (settings.adoptRestApiId) {
      test("adopts the live REST API and its prod stage by import, at the URL every installed app calls", () => {
        const api = one(T.restApi);
        const stage = one(T.stage);
        expect(settings.adoptRestApiId).toBe(LIVE_API.id);
        expect({ api: api.importId, stage: stage.importId }).toEqual({ api: LIVE_API.id, stage: `${LIVE_API.id}/prod` });
        expect(run.outputs.apiUrl).toBe(`https://${LIVE_API.id}.execute-api.${LIVE_API.region}.amazonaws.com/${LIVE_API.stage}`);
        // The id is compiled into every installed app: destroy must never delete them.
        for (const r of [api, stage]) expect({ r: r.name, protect: r.protect, retainOnDelete: r.retainOnDelete }).toEqual({ r: r.name, protect: true, retainOnDelete: true });
        expect(run.resources.filter((r) => r.importId).map((r) => r.type).sort()).toEqual([T.restApi, T.stage].sort());
      });
    } else {
      test("creates its own REST API and stage (nothing imported)", () => {
        expect(run.resources.filter((r) => r.importId)).toEqual([]);
        expect(one(T.restApi).protect).toBe(settings.protectData);
        expect(run.outputs.apiUrl).not.toContain(LIVE_API.id);
      });
    }
  });

  describe(`stack ${stack}: the export bucket`, () => {
    const onBucket = (type: string) => {
      const r = one(type);
      expect({ type, bucket: r.inputs.bucket }).toEqual({ type, bucket: one(T.bucket).id });
      return r;
    };

    test("one bucket, named from the stack's prefix with S3's unique suffix, emptied on destroy (it holds copies only)", () => {
      const bucket = one(T.bucket);
      expect(bucket.inputs).toMatchObject({ bucketPrefix: names.exportBucketPrefix, forceDestroy: true });
      expect(bucket.inputs.bucket).toBeUndefined();
      expect(bucket.state.bucket.startsWith(names.exportBucketPrefix)).toBe(true);
      expect(bucket.inputs.tags).toEqual(tags);
    });

    test("encrypted at rest, private (public access blocked, ACLs off), TLS only", () => {
      expect(onBucket(T.bucketEncryption).inputs.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
      expect(onBucket(T.bucketPublicAccess).inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      expect(onBucket(T.bucketOwnership).inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
      const arn = one(T.bucket).state.arn;
      // The policy only denies: access is what IAM grants (the export function, under its prefix).
      expect(statements(onBucket(T.bucketPolicy).inputs.policy)).toEqual([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
    });

    test("exports expire after a day; unfinished uploads too", () => {
      expect(onBucket(T.bucketLifecycle).inputs.rules).toEqual([
        {
          id: "expire-exports",
          status: "Enabled",
          filter: { prefix: EXPORT_KEY_PREFIX },
          expiration: { days: EXPORT_RETENTION_DAYS },
          abortIncompleteMultipartUpload: { daysAfterInitiation: EXPORT_RETENTION_DAYS },
        },
      ]);
      expect(EXPORT_RETENTION_DAYS).toBe(1);
    });

    test("the export function is created after the bucket is locked down, and is the only one that reaches it", () => {
      const exportFn = fnNamed("user-export");
      for (const t of [T.bucketEncryption, T.bucketPublicAccess, T.bucketOwnership, T.bucketLifecycle, T.bucketPolicy]) expect(exportFn.dependencies).toContain(one(t).urn);
      const arn = one(T.bucket).state.arn;
      const reaching = run.ofType(T.rolePolicy).filter((p) => statements(p.inputs.policy).some((st) => list(st.Resource).some((r) => r.startsWith(arn))));
      expect(reaching.map((p) => p.inputs.role)).toEqual([run.ofType(T.role).find((r) => r.inputs.name === names.role("user-export"))!.id]);
    });
  });

  describe(`stack ${stack}: names`, () => {
    const registered = () =>
      aws_().flatMap((r) => {
        const named = NAMED_TYPES[r.type];
        return named ? [{ kind: named.kind, name: r.inputs[named.input] as string }] : [];
      });

    test("every named resource type is classified: its name is account-wide (preflight checks it) or scoped to a parent", () => {
      for (const r of aws_()) {
        const hasName = NAME_INPUT_KEYS.some((k) => typeof r.inputs[k] === "string");
        if (!hasName) continue;
        const classified = r.type in NAMED_TYPES || SCOPED_NAME_TYPES.has(r.type);
        expect({ type: r.type, classified }).toEqual({ type: r.type, classified: true });
      }
    });

    test("the program creates exactly the names of lib/stack-names.ts, which preflight checks", () => {
      const sort = (xs: { kind: string; name: string }[]) => xs.map((x) => `${x.kind} ${x.name}`).sort();
      expect(sort(registered())).toEqual(sort(stackPhysicalNames(settings.namePrefix, settings)));
    });

    test("no name equals one of the live CDK deployment", () => {
      const live = new Set(LIVE_NAMES.map((l) => `${l.kind} ${l.name.toLowerCase()}`));
      const clash = registered().filter((n) => live.has(`${n.kind} ${n.name.toLowerCase()}`));
      expect(clash).toEqual([]);
      // Nor any function name the live stack used, whatever the kind.
      const liveNames = new Set(LIVE_NAMES.map((l) => l.name.toLowerCase()));
      expect(registered().filter((n) => liveNames.has(n.name.toLowerCase()))).toEqual([]);
    });
  });

  describe(`stack ${stack}: outputs`, () => {
    test("the stack exports what the app and the CLI need", () => {
      expect(run.outputs).toEqual({
        apiUrl: one(T.stage).state.invokeUrl,
        userPoolId: one(T.userPool).id,
        identityPoolId: one(T.identityPool).id,
        piecesTableName: names.piecesTable,
        sessionsTableName: names.sessionsTable,
        region: settings.region,
        alarmTopicArn: one(T.topic).state.arn,
        dashboardUrl: `https://${settings.region}.console.aws.amazon.com/cloudwatch/home?region=${settings.region}#dashboards:name=${one(T.dashboard).inputs.dashboardName}`,
      });
      expect(run.outputs.apiUrl).toMatch(/^https:\/\/.+\/prod$/);
    });
  });
  return () => run;
}
