// haumana-ops migrate's action in-process, on DynamoDB Local (old tables created with
// the old key schemas, the stack's from lib/tables.ts) and moto (Cognito, STS):
// owners resolved or reported, the verification reading the tables back, throttling
// retried and a run out of retries resumed, the checks on the tables named, and the
// confirmation. The whole run as a process, at scale, with a kill and simulated
// devices, is in cli-migrate-binary.integration.test.ts.
import { AdminCreateUserCommand, AdminGetUserCommand, CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ProvisionedThroughputExceededException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { STSClient } from "@aws-sdk/client-sts";
import { randomBytes } from "node:crypto";
import { migrate, MigrateResult } from "../cli/actions/migrate";
import { ConfirmationError } from "../cli/errors";
import { EXIT } from "../cli/exit-codes";
import { resourceNames } from "../lib/names";
import type { StackSettings } from "../lib/stack-config";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../lib/tables";
import { createTestTables, localClient, scanTable } from "./helpers/dynamo";
import { MotoServer, startMoto } from "./helpers/moto";
import { createOldTables, generateOldBackend, googleSub, oldPiece, oldSession, OldTables, putAll, rng } from "./helpers/old-backend";

let moto: MotoServer;
let cognito: CognitoIdentityProviderClient;
let sts: STSClient;
const client: DynamoDBClient = localClient();
const doc = DynamoDBDocumentClient.from(client);
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  moto = await startMoto();
  cognito = new CognitoIdentityProviderClient(moto.clientConfig);
  sts = new STSClient(moto.clientConfig);
});
afterAll(async () => {
  for (const c of cleanup) await c();
  await moto?.stop();
  client.destroy();
});

interface Stage {
  old: OldTables;
  settings: StackSettings;
  names: { piecesTable: string; sessionsTable: string };
  run(o?: { userPools?: string[]; dryRun?: boolean; confirm?: () => Promise<void>; client?: DynamoDBClient }): Promise<MigrateResult>;
}

/** Old tables holding `items`, and a stack (a name prefix of its own) whose tables exist. */
async function stage(label: string, items: { pieces: Record<string, any>[]; sessions: Record<string, any>[] }, opts: { targets?: boolean } = {}): Promise<Stage> {
  const old = await createOldTables(client, label);
  cleanup.push(old.drop);
  await putAll(client, old.pieces, items.pieces);
  await putAll(client, old.sessions, items.sessions);
  const prefix = `mig-${label}-${randomBytes(3).toString("hex")}`;
  const names = resourceNames(prefix);
  if (opts.targets !== false) {
    await client.send(new CreateTableCommand(createTableInput(PIECES_TABLE, names.piecesTable)));
    await client.send(new CreateTableCommand(createTableInput(SESSIONS_TABLE, names.sessionsTable)));
    cleanup.push(() => client.send(new DeleteTableCommand({ TableName: names.piecesTable })).catch(() => undefined));
    cleanup.push(() => client.send(new DeleteTableCommand({ TableName: names.sessionsTable })).catch(() => undefined));
  }
  const settings = { stack: `test-${label}`, region: "us-west-2", namePrefix: prefix } as StackSettings;
  return {
    old,
    settings,
    names,
    run: (o = {}) =>
      migrate(
        {
          dynamodb: o.client ?? client,
          sts,
          cognito,
          // Backoff without waiting: the retries are what is tested, not the clock.
          store: { sleep: async () => undefined },
          ...(o.confirm ? { confirm: o.confirm } : {}),
        },
        { settings, region: "us-west-2", fromPieces: old.pieces, fromSessions: old.sessions, userPools: o.userPools ?? [], dryRun: o.dryRun },
      ),
  };
}

const scan = (table: string) => scanTable(doc, table);
const piecesIn = async (s: Stage) => (await scan(s.names.piecesTable)).filter((i) => i.pieceId !== SYNC_STATE_KEY);

async function googleUserIn(pool: string, username: string): Promise<string> {
  await cognito.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: username, MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: `${username}@example.com` }] }));
  const u = await cognito.send(new AdminGetUserCommand({ UserPoolId: pool, Username: username }));
  return u.UserAttributes!.find((a) => a.Name === "sub")!.Value!;
}

test("items under a Cognito sub: resolved through the pools in order to the Google sub, or reported with their counts and never copied", async () => {
  const empty = (await cognito.send(new CreateUserPoolCommand({ PoolName: "older-pool" }))).UserPool!.Id!;
  const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: "haumana-users-v2" }))).UserPool!.Id!;
  const r = rng(7);
  const g = googleSub(r);
  const resolvable = await googleUserIn(pool, `google_${g}`);
  const native = await googleUserIn(pool, "alice");
  const nobody = "0b6c1c4e-2b7a-4d6e-9a51-0c8f2d7e4b19";
  const june = Date.parse("2025-06-18T10:00:00Z");
  const mine = [oldPiece(r, g, june + 86400_000 * 20).item, oldPiece(r, g, june + 86400_000 * 30).item];
  const underSub = [oldPiece(r, resolvable, june).item, oldPiece(r, resolvable, june + 3600_000).item];
  const others = [oldPiece(r, native, june).item, oldPiece(r, nobody, june).item];
  const sessions = [oldSession(r, resolvable, underSub[0].pieceId, june), oldSession(r, g, mine[0].pieceId, june + 86400_000 * 21), oldSession(r, nobody, others[1].pieceId, june)];
  const s = await stage("owners", { pieces: [...mine, ...underSub, ...others], sessions });

  const without = await s.run();
  expect(without.exitCode).toBe(EXIT.FAILURE);
  expect(without.owners.resolved).toEqual([]);
  expect(without.owners.unresolved.map((u) => [u.owner, u.pieceItems, u.sessionItems, u.reason]).sort()).toEqual(
    [
      [resolvable, 2, 1, "a Cognito sub, and no --user-pool was given to resolve it"],
      [native, 1, 0, "a Cognito sub, and no --user-pool was given to resolve it"],
      [nobody, 1, 1, "a Cognito sub, and no --user-pool was given to resolve it"],
    ].sort(),
  );
  // Only the Google sub's own items are copied, and only under it.
  expect((await piecesIn(s)).map((i) => `${i.userId} ${i.pieceId}`).sort()).toEqual(mine.map((p) => `${g} ${p.pieceId}`).sort());
  expect((await scan(s.names.sessionsTable)).map((i) => i.userId)).toEqual([g]);
  expect(without.verification!.differences).toEqual([]);

  const withPools = await s.run({ userPools: [empty, pool] });
  expect(withPools.owners.resolved).toEqual([{ cognitoSub: resolvable, userId: g, userPool: pool }]);
  expect(Object.fromEntries(withPools.owners.unresolved.map((u) => [u.owner, u.reason]))).toEqual({
    [native]: `its user in ${pool} is alice, not a Google sign-in (google_<Google sub>)`,
    [nobody]: `no user has this sub in ${empty}, ${pool}`,
  });
  expect(withPools.exitCode).toBe(EXIT.FAILURE);
  expect(withPools.pieces).toEqual({ stored: 2, merged: 0, present: 2, refused: 0 });
  expect(withPools.sessions).toEqual({ written: 1, present: 1, refused: 0 });
  expect((await piecesIn(s)).map((i) => `${i.userId} ${i.pieceId}`).sort()).toEqual([...mine, ...underSub].map((p) => `${g} ${p.pieceId}`).sort());
  expect(withPools.verification).toMatchObject({ ok: true, users: [{ userId: g, pieces: { old: 4, new: 4, same: 4 }, sessions: { old: 2, new: 2, same: 2 }, ok: true }] });
});

test("the verification reads the tables back: a value changed behind the engine's back is a difference (exit 1); what was deleted is copied again", async () => {
  const ds = generateOldBackend({ seed: 11, users: 3, piecesPerUser: [20, 30], sessionsPerUser: [10, 15] });
  const s = await stage("verify", ds);
  const first = await s.run();
  expect(first.ok).toBe(true);
  expect(first.exitCode).toBe(EXIT.OK);
  expect(first.verification!.notes).toEqual([]);
  expect(first.pieces).toEqual({ stored: ds.pieces.length, merged: 0, present: 0, refused: 0 });

  const [u] = ds.users;
  const tampered = u.pieces[0].item.pieceId;
  const ended = u.sessions.find((x) => x.endedAt)!;
  const gone = u.sessions.find((x) => x !== ended)!;
  await doc.send(new UpdateCommand({ TableName: s.names.piecesTable, Key: { userId: u.userId, pieceId: tampered }, UpdateExpression: "SET title = :t", ExpressionAttributeValues: { ":t": "changed by hand" } }));
  await doc.send(new DeleteCommand({ TableName: s.names.sessionsTable, Key: { userId: u.userId, sessionId: gone.sessionId } }));
  await doc.send(new UpdateCommand({ TableName: s.names.sessionsTable, Key: { userId: u.userId, sessionId: ended.sessionId }, UpdateExpression: "REMOVE endedAt" }));

  const second = await s.run();
  expect(second.sessions).toMatchObject({ written: 2 });
  expect(second.exitCode).toBe(EXIT.FAILURE);
  expect(second.verification!.differences).toEqual([
    { userId: u.userId, kind: "piece", id: tampered, field: "title", old: u.pieces[0].item.title, new: "changed by hand", problem: "another value" },
  ]);
  expect(second.verification!.users.filter((c) => !c.ok).map((c) => c.userId)).toEqual([u.userId]);
});

/** A DynamoDB client whose first `times` calls of `operation` are throttled, as DynamoDB throttles. */
function throttling(rules: Record<string, number>): DynamoDBClient {
  const c = localClient();
  c.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const op = String(context.commandName).replace(/Command$/, "");
      if (rules[op] > 0) {
        rules[op]--;
        throw new ProvisionedThroughputExceededException({ message: "injected throttle", $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    },
    { step: "initialize", name: "injectThrottles" },
  );
  cleanup.push(async () => c.destroy());
  return c;
}

test("throttled scans and writes are retried; a run out of retries stops and says how to resume, and the next run copies the rest", async () => {
  const ds = generateOldBackend({ seed: 12, users: 4, piecesPerUser: [120, 150], sessionsPerUser: [20, 30] });
  const s = await stage("throttle", ds);
  const rules = { Scan: 3, TransactWriteItems: 3, BatchGetItem: 2 };
  const throttled = await s.run({ client: throttling(rules) });
  expect(rules).toEqual({ Scan: 0, TransactWriteItems: 0, BatchGetItem: 0 });
  expect(throttled.ok).toBe(true);
  expect(throttled.pieces.stored).toBe(ds.pieces.length);

  const t = await stage("exhaust", ds);
  // Every transaction after the first 2 is throttled: the store gives up, then the chunk's retries do.
  let allowed = 2;
  const c = localClient();
  c.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (context.commandName === "TransactWriteItemsCommand" && allowed-- <= 0) {
        throw new ProvisionedThroughputExceededException({ message: "injected throttle", $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    },
    { step: "initialize", name: "throttleEverything" },
  );
  cleanup.push(async () => c.destroy());
  await expect(t.run({ client: c })).rejects.toMatchObject({
    code: "store_unavailable",
    exitCode: EXIT.FAILURE,
    message: expect.stringContaining("running the same command again copies the rest"),
  });
  const partial = (await piecesIn(t)).length;
  expect(partial).toBeGreaterThan(0);
  expect(partial).toBeLessThan(ds.pieces.length);
  const resumed = await t.run();
  expect(resumed.ok).toBe(true);
  expect(resumed.pieces.stored + resumed.pieces.present).toBe(ds.pieces.length);
  expect(resumed.pieces.present).toBe(partial);
  expect((await piecesIn(t)).length).toBe(ds.pieces.length);
});

test("the tables named are checked before anything is read: old schemas for the sources, the stack's for the targets", async () => {
  const ds = generateOldBackend({ seed: 13, users: 1, piecesPerUser: [3, 3], sessionsPerUser: [2, 2] });
  const s = await stage("checks", ds);
  const newSchema = await createTestTables("notold");
  cleanup.push(newSchema.drop);
  const run = (fromPieces: string, fromSessions: string, settings = s.settings) =>
    migrate({ dynamodb: client, sts }, { settings, region: "us-west-2", fromPieces, fromSessions, userPools: [] });

  await expect(run(s.old.sessions, s.old.pieces)).rejects.toMatchObject({
    exitCode: EXIT.USAGE,
    message: `--from-pieces ${s.old.sessions} is keyed pk/sk; the old backend's table is keyed userId/pieceId.`,
  });
  await expect(run("no-such-table", s.old.sessions)).rejects.toMatchObject({ exitCode: EXIT.USAGE, message: "--from-pieces no-such-table: no such table in us-west-2." });
  await expect(run(newSchema.piecesTable, s.old.sessions)).rejects.toMatchObject({ exitCode: EXIT.USAGE, message: expect.stringContaining("is a table of this program (it has the byChange index)") });
  await expect(run(s.names.piecesTable, s.old.sessions)).rejects.toMatchObject({ exitCode: EXIT.USAGE, message: expect.stringContaining("is a table of stack") });
  await expect(run(s.old.pieces, s.old.pieces)).rejects.toMatchObject({ exitCode: EXIT.USAGE });
  // A stack whose names would be the live deployment's is refused before anything is read.
  await expect(run(s.old.pieces, s.old.sessions, { ...s.settings, namePrefix: "haumana" } as StackSettings)).rejects.toMatchObject({
    exitCode: EXIT.USAGE,
    message: expect.stringMatching(/^Pulumi\.test-checks\.yaml: namePrefix "haumana" would reuse names of the live CDK deployment: haumana-pieces, haumana-sessions/),
  });
  const undeployed = { ...s.settings, namePrefix: "mig-undeployed" } as StackSettings;
  await expect(run(s.old.pieces, s.old.sessions, undeployed)).rejects.toMatchObject({
    exitCode: EXIT.FAILURE,
    code: "target_missing",
    message: "The stack's table mig-undeployed-pieces does not exist in us-west-2: deploy stack test-checks first (pulumi up).",
  });
  expect(await piecesIn(s)).toEqual([]);
});

test("the plan is the engine's decisions and nothing is written before the answer; declined, nothing is written at all", async () => {
  const ds = generateOldBackend({ seed: 14, users: 2, piecesPerUser: [15, 20], sessionsPerUser: [5, 8] });
  const s = await stage("confirm", ds);
  let seen: any;
  await expect(
    s.run({
      confirm: async () => {
        throw new ConfirmationError("Cancelled: nothing was changed.", "declined");
      },
    }),
  ).rejects.toMatchObject({ code: "declined", exitCode: EXIT.FAILURE });
  expect(await scan(s.names.piecesTable)).toEqual([]);
  expect(await scan(s.names.sessionsTable)).toEqual([]);

  const done = await migrate(
    {
      dynamodb: client,
      sts,
      confirm: async (plan) => {
        seen = { pieces: plan.pieces, sessions: plan.sessions };
        // Nothing written while the question is open.
        expect(await scan(s.names.piecesTable)).toEqual([]);
      },
    },
    { settings: s.settings, region: "us-west-2", fromPieces: s.old.pieces, fromSessions: s.old.sessions, userPools: [] },
  );
  expect(seen).toEqual({ pieces: done.pieces, sessions: done.sessions });
  expect(done.pieces.stored).toBe(ds.pieces.length);
  expect(done.ok).toBe(true);
});
