// Each function's IAM policy against the requests its code actually sends. The
// program derives the grants statically (infra/permissions.ts: the SDK commands in
// the function's bundle); here the real route code runs on DynamoDB Local and the
// real auth-sync, export and deletion code on moto's Cognito and S3, every request
// is recorded at the SDK client, and each is turned into the IAM action and
// resource AWS would check (per AWS's IAM reference for DynamoDB, Cognito and S3,
// written out below). Then for each function: the actions granted are exactly the
// actions sent, every request is allowed, and the tables, indexes, pool and
// objects granted are exactly the ones touched.
import { AdminCreateUserCommand, CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomUUID } from "node:crypto";
import { consentStatusRoute, deleteUserRoute, exportRoute } from "../functions/core/account-routes";
import { s3ExportLinks } from "../functions/core/export-link";
import { Store } from "../functions/core/store";
import { createAuthSyncHandler } from "../functions/core/users";
import { createTokenVerifier } from "../functions/core/verify";
import { setLogSink } from "../functions/core/log";
import { EXPORT_KEY_PREFIX } from "../lib/exports";
import { FUNCTION_NAMES, resourceNames, type FunctionName } from "../lib/names";
import { readStackSettings } from "../lib/stack-config";
import { BUCKET_INDEX, CHANGE_INDEX } from "../lib/tables";
import { Device } from "./helpers/device";
import { googleClaims, JwksServer, signToken, startJwksServer, TEST_AUDIENCE, TEST_ISSUER } from "./helpers/jwks";
import { MotoServer, startMoto } from "./helpers/moto";
import { createHarness, Harness } from "./helpers/sync-harness";
import { runStack, type StackRun } from "./infra/harness";

jest.setTimeout(120_000);

/** One permission check AWS makes for a request: an action on a resource. */
interface Need {
  action: string;
  /** "table:pieces", "index:sessions/byChange", "userpool", "objects:exports/*". */
  resource: string;
}

/** An S3 object as the grant names it: the export prefix's objects, or the key itself. */
const objectResource = (key: string) => (key.startsWith(EXPORT_KEY_PREFIX) ? `objects:${EXPORT_KEY_PREFIX}*` : `objects:${key}`);

// S3's IAM reference: PutObject with the x-amz-tagging header also needs
// s3:PutObjectTagging; a GET through a presigned URL is the signer's s3:GetObject.
function s3Needs(operation: string, input: any): Need[] {
  switch (operation) {
    case "PutObject":
      return [
        { action: "s3:PutObject", resource: objectResource(input.Key) },
        ...(input.Tagging ? [{ action: "s3:PutObjectTagging", resource: objectResource(input.Key) }] : []),
      ];
    default:
      throw new Error(`no IAM mapping written for S3 ${operation}: add it here`);
  }
}

// IAM actions of a transaction's items (DynamoDB IAM reference: TransactWriteItems
// is authorized per item, by the action of that item's kind).
const ITEM_ACTION: Record<string, string> = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" };

let kindOfTable: Record<string, "pieces" | "sessions"> = {};
const table = (name: string) => {
  const kind = kindOfTable[name];
  if (!kind) throw new Error(`request to an unknown table ${name}`);
  return kind;
};

function dynamoNeeds(operation: string, input: any): Need[] {
  switch (operation) {
    case "GetItem":
    case "PutItem":
    case "UpdateItem":
    case "DeleteItem":
      return [{ action: `dynamodb:${operation}`, resource: `table:${table(input.TableName)}` }];
    case "Query":
    case "Scan":
      return [
        {
          action: `dynamodb:${operation}`,
          resource: input.IndexName ? `index:${table(input.TableName)}/${input.IndexName}` : `table:${table(input.TableName)}`,
        },
      ];
    case "BatchGetItem":
    case "BatchWriteItem":
      return Object.keys(input.RequestItems).map((t) => ({ action: `dynamodb:${operation}`, resource: `table:${table(t)}` }));
    case "TransactWriteItems":
      return input.TransactItems.map((item: Record<string, any>) => {
        const [kind] = Object.keys(item);
        return { action: `dynamodb:${ITEM_ACTION[kind]}`, resource: `table:${table(item[kind].TableName)}` };
      });
    default:
      throw new Error(`no IAM mapping written for DynamoDB ${operation}: add it here`);
  }
}

const needs = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, [] as Need[]])) as Record<FunctionName, Need[]>;
let current: FunctionName = "authorizer";

/** The operation a command sends, by the SDK's own class (a lib-dynamodb command wraps the client's). */
const operationOf = (command: any) => (command.clientCommand ?? command).constructor.name.replace(/Command$/, "");

function recording<T extends { send(c: any): Promise<any> }>(client: T, toNeeds: (op: string, input: any) => Need[]): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== "send") return Reflect.get(target, prop, receiver);
      return (command: any) => {
        needs[current].push(...toNeeds(operationOf(command), command.input));
        return target.send(command);
      };
    },
  });
}

let h: Harness;
let moto: MotoServer;
let jwks: JwksServer;
let run: StackRun;

beforeAll(async () => {
  [h, moto, jwks, run] = await Promise.all([
    createHarness("iam", { doc: (doc) => recording(doc, dynamoNeeds) as DynamoDBDocumentClient }),
    startMoto(),
    startJwksServer(),
    runStack("prod", { stubCode: true }),
  ]);
  kindOfTable = { [h.tables.piecesTable]: "pieces", [h.tables.sessionsTable]: "sessions" };
});

afterAll(async () => {
  await h?.done();
  await Promise.all([moto?.stop(), jwks?.close()]);
});

async function syncScenarios() {
  // A user whose first request is a pull: the counter is read, then created.
  const quiet = `iam-quiet-${randomUUID()}`;
  current = "sync-pieces";
  expect((await h.call("/pieces", quiet, { operation: "sync", pieces: [] })).status).toBe(200);

  // A new user pushing at once (the counter is created inside the transaction), then
  // edits (the counter is updated), pulls with v1 and protocol 2, deletes.
  const user = `iam-user-${randomUUID()}`;
  const a = new Device("a", user, async (route, body) => {
    current = route === "/pieces" ? "sync-pieces" : "sync-sessions";
    const r = await h.call(route, user, body);
    return { status: r.status, body: r.body };
  });
  const p1 = a.createPiece({ title: "one" });
  a.createPiece({ title: "two" });
  expect((await a.syncPieces()).status).toBe(200);
  a.edit(p1.pieceId, { title: "one, edited" });
  expect((await a.syncPieces()).status).toBe(200);
  current = "sync-pieces";
  const page = await h.call("/pieces", user, { operation: "sync", protocol: 2, pieces: [], limit: 1 });
  expect(page.status).toBe(200);
  const del = await h.call("/pieces", user, {
    operation: "sync",
    protocol: 2,
    pieces: [],
    cursor: page.body.cursor,
    deletedPieces: [{ pieceId: p1.pieceId, version: page.body.serverPieces.find((p: any) => p.pieceId === p1.pieceId)?.version ?? 2 }],
  });
  expect(del.status).toBe(200);

  // A device holding pieces it does not mark as changed, which the server lacks (as
  // after the move from the old backend): the repertoire digests differ, so the
  // server reads the differing buckets of its byBucket index.
  const moved = `iam-moved-${randomUUID()}`;
  const c = new Device("c", moved, async () => ({ status: 0, body: {} }));
  c.createPiece({ title: "from the old backend" });
  const held = c.piecesBody() as { pieces: Record<string, unknown>[] };
  current = "sync-pieces";
  const adopt = await h.call("/pieces", moved, { ...held, pieces: held.pieces.map((p) => ({ ...p, locallyModified: false })) });
  expect(adopt.status).toBe(200);

  // Sessions: a user's first request is a sessions sync (counter created), then more, v1 and protocol 2.
  const s = `iam-sessions-${randomUUID()}`;
  const b = new Device("b", s, async (route, body) => {
    current = route === "/pieces" ? "sync-pieces" : "sync-sessions";
    const r = await h.call(route, s, body);
    return { status: r.status, body: r.body };
  });
  const piece = randomUUID().toUpperCase();
  b.recordSession(piece);
  expect((await b.syncSessions()).status).toBe(200);
  const open = b.recordSession(piece, false);
  expect((await b.syncSessions()).status).toBe(200);
  b.endSession(open.sessionId);
  current = "sync-sessions";
  expect((await h.call("/sessions", s, { protocol: 2, sessions: [], limit: 1 })).status).toBe(200);
  expect((await h.call("/sessions", s, { sessions: [] })).status).toBe(200);
}

async function accountScenarios() {
  const cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: `iam-account-${Date.now()}` }))).UserPool!.Id!;
  await s3.send(new CreateBucketCommand({ Bucket: "iam-exports", CreateBucketConfiguration: { LocationConstraint: "us-west-2" } }));
  const user = `iam-account-${randomUUID()}`;
  const a = new Device("a", user, async (route, body) => {
    current = route === "/pieces" ? "sync-pieces" : "sync-sessions";
    const r = await h.call(route, user, body);
    return { status: r.status, body: r.body };
  });
  a.recordSession(a.createPiece({ title: "to export, then delete" }).pieceId);
  await a.syncNow();
  await cognito.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: `google_${user}`, MessageAction: "SUPPRESS" }));
  const event = (method: string, resource: string) => ({
    body: null,
    isBase64Encoded: false,
    httpMethod: method,
    resource,
    pathParameters: { userId: user },
    requestContext: { authorizer: { userId: user, email: "x@example.com" }, requestId: "iam" },
  });
  const prev = setLogSink(() => undefined);
  try {
    // The export reads as the Lambda does: its own document client, not the Store.
    current = "user-export";
    const source = { doc: recording(h.tables.doc, dynamoNeeds), tableName: (k: "pieces" | "sessions") => (k === "pieces" ? h.tables.piecesTable : h.tables.sessionsTable), now: Date.now };
    const links = s3ExportLinks({ s3: recording(s3, s3Needs), bucket: "iam-exports", tagging: "Project=Haumana" });
    const res = await exportRoute(source, links)(event("GET", "/users/{userId}/export"));
    expect(res.statusCode).toBe(302);
    // The app follows the link: S3 authorizes it as the function's s3:GetObject.
    const link = new URL(String(res.headers!.Location));
    expect((await fetch(link)).status).toBe(200);
    needs["user-export"].push({ action: "s3:GetObject", resource: objectResource(decodeURIComponent(link.pathname.replace(/^\/iam-exports\//, ""))) });
    expect((await consentStatusRoute()(event("GET", "/users/{userId}/consent-status"))).statusCode).toBe(501);

    current = "user-delete";
    const store = new Store({ doc: recording(h.tables.doc, dynamoNeeds), piecesTable: h.tables.piecesTable, sessionsTable: h.tables.sessionsTable });
    const registry = { userPoolId: pool, cognito: recording(cognito, (op) => [{ action: `cognito-idp:${op}`, resource: "userpool" }]) };
    expect((await deleteUserRoute(store, registry)(event("DELETE", "/users/{userId}"))).statusCode).toBe(204);
    // Again: the user is gone from the pool (UserNotFoundException), the same request.
    expect((await deleteUserRoute(store, registry)(event("DELETE", "/users/{userId}"))).statusCode).toBe(204);
  } finally {
    setLogSink(prev);
    cognito.destroy();
    s3.destroy();
  }
}

async function authScenarios() {
  const cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  const pool = await cognito.send(new CreateUserPoolCommand({ PoolName: `iam-${Date.now()}` }));
  const handler = createAuthSyncHandler({
    verifier: createTokenVerifier({ issuers: [TEST_ISSUER], audiences: [TEST_AUDIENCE], jwksUri: jwks.url }),
    registry: {
      cognito: recording(cognito, (op) => [{ action: `cognito-idp:${op}`, resource: "userpool" }]),
      userPoolId: pool.UserPool!.Id!,
    },
  });
  const prev = setLogSink(() => undefined);
  try {
    current = "auth-sync";
    const signIn = async (claims: Record<string, unknown>) => {
      const res = await handler({ body: JSON.stringify({ googleIdToken: await signToken(jwks.key, googleClaims(claims)) }) } as any);
      expect(res.statusCode).toBe(200);
    };
    await signIn({}); // first sign-in: the user is created
    await signIn({ name: "Kumu Hula II" }); // a changed profile: the user is updated
  } finally {
    setLogSink(prev);
    cognito.destroy();
  }
}

/** What the program grants each function, in the same terms as Need. */
function granted(fn: FunctionName): Need[] {
  const names = resourceNames(readStackSettings("prod").namePrefix);
  const role = run.ofType("aws:iam/role:Role").find((r) => r.inputs.name === names.role(fn))!;
  const tables = Object.fromEntries(run.ofType("aws:dynamodb/table:Table").map((t) => [t.state.arn, t.inputs.name === names.piecesTable ? "pieces" : "sessions"]));
  const pool = run.ofType("aws:cognito/userPool:UserPool")[0].state.arn;
  const bucket = run.ofType("aws:s3/bucket:Bucket")[0].state.arn;
  const resourceOf = (arn: string): string | undefined => {
    if (arn === pool) return "userpool";
    if (arn.startsWith(`${bucket}/`)) return `objects:${arn.slice(bucket.length + 1)}`;
    if (tables[arn]) return `table:${tables[arn]}`;
    const m = /^(.*)\/index\/([^/]+)$/.exec(arn);
    if (m && tables[m[1]]) return `index:${tables[m[1]]}/${m[2]}`;
    return undefined; // the function's own log group
  };
  const out: Need[] = [];
  for (const p of run.ofType("aws:iam/rolePolicy:RolePolicy").filter((x) => x.inputs.role === role.id)) {
    for (const s of JSON.parse(p.inputs.policy).Statement) {
      for (const action of [s.Action].flat()) {
        if (action.startsWith("logs:")) continue;
        for (const arn of [s.Resource].flat()) {
          const resource = resourceOf(arn);
          if (!resource) throw new Error(`${fn}: ${action} granted on ${arn}, which is none of the stack's tables, indexes, pool or objects`);
          out.push({ action, resource });
        }
      }
    }
  }
  return out;
}

const uniq = (xs: string[]) => [...new Set(xs)].sort();

/**
 * Granted but never sent, pinned so it cannot grow unnoticed: user-delete runs
 * deleteAccountData on the sync's Store, and a class is kept whole in a bundle, so
 * the derivation (per file of the code that can run) also grants what the Store's
 * other methods can send, on the same two tables the function already deletes from.
 */
const SURPLUS: Partial<Record<FunctionName, string[]>> = {
  "user-delete": ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
};

test("every function is granted exactly the actions, tables and indexes its requests need", async () => {
  await syncScenarios();
  await authScenarios();
  await accountScenarios();

  // The scenarios reached every kind of request the code can send.
  expect(uniq(needs["sync-pieces"].map((n) => `${n.action} ${n.resource}`))).toEqual(
    expect.arrayContaining([
      "dynamodb:GetItem table:pieces",
      "dynamodb:PutItem table:pieces",
      "dynamodb:UpdateItem table:pieces",
      "dynamodb:BatchGetItem table:pieces",
      `dynamodb:Query index:pieces/${CHANGE_INDEX}`,
      `dynamodb:Query index:pieces/${BUCKET_INDEX}`,
    ]),
  );
  expect(uniq(needs["sync-sessions"].map((n) => n.resource))).toEqual(["index:sessions/byChange", "table:pieces", "table:sessions"]);
  expect(uniq(needs["user-export"].map((n) => `${n.action} ${n.resource}`))).toEqual([
    "dynamodb:Query table:pieces",
    "dynamodb:Query table:sessions",
    `s3:GetObject objects:${EXPORT_KEY_PREFIX}*`,
    `s3:PutObject objects:${EXPORT_KEY_PREFIX}*`,
    `s3:PutObjectTagging objects:${EXPORT_KEY_PREFIX}*`,
  ]);
  expect(uniq(needs["user-delete"].map((n) => `${n.action} ${n.resource}`))).toEqual(
    expect.arrayContaining(["cognito-idp:AdminDeleteUser userpool", "dynamodb:BatchWriteItem table:pieces", "dynamodb:BatchWriteItem table:sessions", "dynamodb:UpdateItem table:pieces"]),
  );

  for (const fn of FUNCTION_NAMES) {
    const sent = needs[fn];
    const grants = granted(fn);
    const allowed = new Set(grants.map((g) => `${g.action} ${g.resource}`));
    // Every request is allowed.
    expect({ fn, denied: uniq(sent.map((n) => `${n.action} ${n.resource}`).filter((k) => !allowed.has(k))) }).toEqual({ fn, denied: [] });
    // No action is granted that the code does not send (but the pinned surplus).
    expect({ fn, actions: uniq(grants.map((g) => g.action)) }).toEqual({ fn, actions: uniq([...sent.map((n) => n.action), ...(SURPLUS[fn] ?? [])]) });
    // No table, index or pool is granted that the code does not touch.
    expect({ fn, resources: uniq(grants.map((g) => g.resource)) }).toEqual({ fn, resources: uniq(sent.map((n) => n.resource)) });
  }
});
