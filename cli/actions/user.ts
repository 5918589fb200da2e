// `haumana-ops user show|export|delete`: a user's account data, for requests that
// arrive by email. The user is found by Google `sub` (Cognito user google_<sub>) or by
// email (Cognito ListUsers); the tables and the user pool are the stack's, named
// from its namePrefix (the pool found by name with ListUserPools). Export and delete
// run the API's own code (functions/core/export.ts, account-deletion.ts), so the
// document is the one the app gets and a deletion is the one the app asks for.
import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ListUserPoolsCommand,
  ListUsersCommand,
  type AttributeType,
} from "@aws-sdk/client-cognito-identity-provider";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as fs from "node:fs";
import { AccountDeletion, deleteAccount, RegistryDeletionError } from "../../functions/core/account-deletion";
import { HaumanaError } from "../../functions/core/errors";
import { buildExport, BuiltExport, countUserData, DataCounts } from "../../functions/core/export";
import { Store } from "../../functions/core/store";
import { cognitoUsername } from "../../lib/google";
import { resourceNames } from "../../lib/names";
import type { StackSettings } from "../../lib/stack-config";
import { awsSettings, createClient, regionFor, send } from "../aws";
import { AwsRequestError, CliError, fromAwsError, UsageError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand } from "../invocation";
import { Colours, table } from "../ui";

/** Who: exactly one of --email and --sub. */
export interface UserSelector {
  email?: string;
  sub?: string;
}

export interface CognitoUser {
  username: string;
  email?: string;
  name?: string;
  status?: string;
  enabled?: boolean;
  createdAt?: string;
}

/** The stack's user pool, tables, and the user they are about. */
export interface Target {
  stack: string;
  region: string;
  userPool: { name: string; id: string };
  tables: { pieces: string; sessions: string };
  userId: string;
  /** The Cognito user google_<sub>, if it exists. */
  cognitoUser?: CognitoUser;
}

export interface UserDeps {
  cognito: CognitoIdentityProviderClient;
  dynamodb: DynamoDBClient;
}

/** The clients of the stack's region (or --region), with the run's --profile and --debug. */
export function userDeps(stackRegion: string): UserDeps {
  const region = regionFor(stackRegion);
  return { cognito: createClient(CognitoIdentityProviderClient, region), dynamodb: createClient(DynamoDBClient, region) };
}

export function checkSelector(who: UserSelector): void {
  if (!!who.email === !!who.sub) throw new UsageError("name the user with exactly one of --email <address> and --sub <Google user id>");
  if (who.sub !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(who.sub)) throw new UsageError(`not a Google user id: ${who.sub}`);
  if (who.email !== undefined && !/^[^\s@"]+@[^\s@"]+$/.test(who.email)) throw new UsageError(`not an email address: ${who.email}`);
}

const attr = (attrs: AttributeType[] | undefined, name: string) => attrs?.find((a) => a.Name === name)?.Value;

function cognitoUser(u: {
  Username?: string;
  Attributes?: AttributeType[];
  UserAttributes?: AttributeType[];
  UserStatus?: string;
  Enabled?: boolean;
  UserCreateDate?: Date;
}): CognitoUser {
  const attrs = u.Attributes ?? u.UserAttributes;
  const out: CognitoUser = { username: u.Username ?? "" };
  const email = attr(attrs, "email");
  const name = attr(attrs, "name");
  if (email) out.email = email;
  if (name) out.name = name;
  if (u.UserStatus) out.status = u.UserStatus;
  if (u.Enabled !== undefined) out.enabled = u.Enabled;
  if (u.UserCreateDate) out.createdAt = new Date(u.UserCreateDate).toISOString();
  return out;
}

/** The stack's user pool, by its name (lib/names.ts); exactly one must exist. */
export async function findUserPool(cognito: UserDeps["cognito"], name: string, region: string): Promise<{ name: string; id: string }> {
  const found: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await send(cognito, new ListUserPoolsCommand({ MaxResults: 60, NextToken }));
    for (const p of page.UserPools ?? []) if (p.Name === name && p.Id) found.push(p.Id);
    NextToken = page.NextToken;
  } while (NextToken);
  if (found.length === 0) {
    throw new CliError(`No Cognito user pool named ${name} in ${region}: is the stack deployed, in this account and region?`, "no_user_pool");
  }
  if (found.length > 1) {
    throw new CliError(`${found.length} Cognito user pools are named ${name} in ${region} (${found.join(", ")}): the stack's is ambiguous.`, "ambiguous_user_pool");
  }
  return { name, id: found[0] };
}

/** The stack, its pool and tables, and who the selector names. */
export async function resolveTarget(deps: UserDeps, settings: StackSettings, who: UserSelector): Promise<Target> {
  checkSelector(who);
  const region = regionFor(settings.region);
  const names = resourceNames(settings.namePrefix);
  const userPool = await findUserPool(deps.cognito, names.userPool, region);
  const base = { stack: settings.stack, region, userPool, tables: { pieces: names.piecesTable, sessions: names.sessionsTable } };
  if (who.sub) {
    const u = await getCognitoUser(deps.cognito, userPool.id, cognitoUsername(who.sub));
    return { ...base, userId: who.sub, ...(u ? { cognitoUser: u } : {}) };
  }
  // Cognito's filter takes the value in double quotes; the selector holds none.
  const users: CognitoUser[] = [];
  let PaginationToken: string | undefined;
  do {
    const page = await send(deps.cognito, new ListUsersCommand({ UserPoolId: userPool.id, Filter: `email = "${who.email}"`, PaginationToken }));
    users.push(...(page.Users ?? []).map(cognitoUser));
    PaginationToken = page.PaginationToken;
  } while (PaginationToken);
  if (users.length === 0) {
    throw new CliError(
      `No user with the email ${who.email} in ${userPool.name}. A user who never signed in to this backend has no Cognito user; ` +
        "if you know their Google user id, use --sub.",
      "user_not_found",
    );
  }
  if (users.length > 1) {
    throw new UsageError(
      `${users.length} users have the email ${who.email}: ${users.map((u) => u.username).join(", ")}. Pick one with --sub.`,
      `For example: ${cliCommand("user", "show", "--sub", subOf(users[0].username))}`,
    );
  }
  return { ...base, userId: subOf(users[0].username), cognitoUser: users[0] };
}

function subOf(username: string): string {
  const m = /^google_(.+)$/.exec(username);
  if (!m) throw new CliError(`The Cognito user ${username} is not a Google user (google_<sub>): this CLI does not know whose data it is.`, "not_google_user");
  return m[1];
}

async function getCognitoUser(cognito: UserDeps["cognito"], userPoolId: string, username: string): Promise<CognitoUser | undefined> {
  try {
    return cognitoUser(await send(cognito, new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username })));
  } catch (err) {
    if (err instanceof AwsRequestError && err.awsName === "UserNotFoundException") return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------- DynamoDB through the API's code

/**
 * A Store on the stack's tables for the API's own code. That code sends its requests
 * itself and retries what is transient, so its errors are the SDK's: this remembers
 * the last request that failed, to report it as every other AWS failure is
 * (cli/errors.ts fromAwsError), with the operation and where it went.
 */
function storeFor(deps: UserDeps, target: Target) {
  let last: { operation: string; err: unknown } | undefined;
  const raw = DynamoDBDocumentClient.from(deps.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const doc = new Proxy(raw, {
    get(t, prop, receiver) {
      if (prop !== "send") return Reflect.get(t, prop, receiver);
      return async (command: any, ...rest: any[]) => {
        try {
          const out = await (t.send as any)(command, ...rest);
          last = undefined;
          return out;
        } catch (err) {
          last = { operation: (command.clientCommand ?? command).constructor.name.replace(/Command$/, ""), err };
          throw err;
        }
      };
    },
  });
  const store = new Store({ doc, piecesTable: target.tables.pieces, sessionsTable: target.tables.sessions, maxAttempts: 3 });
  const setting = () => ({ profile: awsSettings().profile ?? process.env.AWS_PROFILE, endpointOverride: process.env.AWS_ENDPOINT_URL });
  /** Runs `work`, turning what the API's code throws into a CliError. */
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (err instanceof RegistryDeletionError) throw fromAwsError(err.cause, "AdminDeleteUser", setting());
      if (last) throw fromAwsError(last.err, last.operation, setting());
      if (err instanceof HaumanaError) throw new CliError(err.message, err.code);
      throw err;
    }
  };
  return { store, run };
}

// ---------------------------------------------------------------- show

export interface UserShowResult {
  stack: string;
  region: string;
  userPool: { name: string; id: string };
  userId: string;
  cognitoUser: CognitoUser | null;
  data: DataCounts;
  /** When the account's data was deleted before (the deletion record), if it was. */
  deletedAt: string | null;
  exitCode: ExitCode;
}

export async function readUserData(deps: UserDeps, target: Target): Promise<{ data: DataCounts; deletedAt: string | null }> {
  const { store, run } = storeFor(deps, target);
  return run(async () => {
    const data = await countUserData(store, target.userId);
    const state = await store.getSyncState(target.userId);
    return { data, deletedAt: state.accountDeletedAt ?? null };
  });
}

const isEmpty = (d: DataCounts) => d.pieces + d.tombstones + d.sessions === 0 && !d.syncState;

export async function showUser(deps: UserDeps, target: Target): Promise<UserShowResult> {
  const { data, deletedAt } = await readUserData(deps, target);
  const found = !!target.cognitoUser || !isEmpty(data) || !!deletedAt;
  return {
    stack: target.stack,
    region: target.region,
    userPool: target.userPool,
    userId: target.userId,
    cognitoUser: target.cognitoUser ?? null,
    data,
    deletedAt,
    exitCode: found ? EXIT.OK : EXIT.FAILURE,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

function dataLines(d: DataCounts): string[][] {
  return [
    ["pieces", `${d.pieces.toLocaleString("en-US")}${d.tombstones ? ` (and ${plural(d.tombstones, "deleted piece")} kept as tombstones for other devices)` : ""}`],
    ["sessions", d.sessions.toLocaleString("en-US")],
    ["sync state", d.syncState ? "yes" : "none"],
  ];
}

function cognitoLine(t: { cognitoUser?: CognitoUser | null; userPool: { name: string } }, c: Colours): string {
  const u = t.cognitoUser;
  if (!u) return c.dim(`none in ${t.userPool.name}`);
  const about = [u.email, u.name].filter(Boolean).join(", ");
  return `${u.username}${about ? ` (${about})` : ""}`;
}

export function renderUserShow(r: UserShowResult, c: Colours): string {
  const u = r.cognitoUser;
  const rows = [
    ["Cognito user", cognitoLine(r, c)],
    ...(u ? [["  status", `${u.status ?? "?"}${u.enabled === false ? ", disabled" : ""}${u.createdAt ? `, created ${u.createdAt}` : ""}`]] : []),
    ...dataLines(r.data),
    ...(r.deletedAt ? [["deleted before", `${r.deletedAt} (what the account created since then is kept)`]] : []),
  ];
  const out = [`User ${r.userId} of stack ${r.stack} (${r.region}, pool ${r.userPool.name})`, table(rows.map(([k, v]) => [`  ${k}`, v]))];
  if (r.exitCode !== EXIT.OK) out.push(c.red(`Nothing found for user ${r.userId}: no Cognito user and no data.`));
  return out.join("\n");
}

// ---------------------------------------------------------------- export

export interface UserExportResult {
  stack: string;
  userId: string;
  /** Where the document was written (--out), else null: it is on stdout. */
  file: string | null;
  bytes: number;
  pieces: number;
  sessions: number;
  exportedAt: string;
  exitCode: ExitCode;
}

/** The export document, as the API builds it. */
export async function exportUser(deps: UserDeps, target: Target): Promise<BuiltExport> {
  const { store, run } = storeFor(deps, target);
  const built = await run(() => buildExport(store, target.userId));
  if (!target.cognitoUser && built.pieces === 0 && built.sessions === 0) {
    throw new CliError(`Nothing to export for user ${target.userId}: no Cognito user in ${target.userPool.name}, and no pieces or sessions.`, "user_not_found");
  }
  return built;
}

/** Writes the document to `file` (whole, then renamed, so a reader never sees half of it). */
export function writeExport(built: BuiltExport, target: Target, file: string): UserExportResult {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, built.json + "\n", { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new CliError(`Cannot write ${file}: ${(err as Error).message}`, "write_failed");
  }
  return {
    stack: target.stack,
    userId: target.userId,
    file,
    bytes: Buffer.byteLength(built.json) + 1,
    pieces: built.pieces,
    sessions: built.sessions,
    exportedAt: built.exportedAt,
    exitCode: EXIT.OK,
  };
}

export function renderUserExport(r: UserExportResult): string {
  return `Wrote ${r.file}: ${plural(r.pieces, "piece")} and ${plural(r.sessions, "session")} of user ${r.userId} (${(r.bytes / 1024).toFixed(1)} KB, exported ${r.exportedAt}).`;
}

// ---------------------------------------------------------------- delete

export interface UserDeletePlan {
  cognitoUser: CognitoUser | null;
  data: DataCounts;
  deletedAt: string | null;
  /** Nothing of the user is stored: no Cognito user, no item. */
  nothingToDelete: boolean;
}

export interface UserDeleteResult {
  stack: string;
  region: string;
  userPool: { name: string; id: string };
  userId: string;
  dryRun: boolean;
  plan: UserDeletePlan;
  /** What was deleted; null for --dry-run and when there was nothing to delete. */
  deleted: { pieces: number; sessions: number; cognitoUser: AccountDeletion["cognitoUser"]; deletedAt: string } | null;
  exitCode: ExitCode;
}

export async function planUserDeletion(deps: UserDeps, target: Target): Promise<UserDeletePlan> {
  const { data, deletedAt } = await readUserData(deps, target);
  return { cognitoUser: target.cognitoUser ?? null, data, deletedAt, nothingToDelete: !target.cognitoUser && isEmpty(data) };
}

export function renderDeletionPlan(target: Target, plan: UserDeletePlan, c: Colours): string {
  const rows = [["Cognito user", cognitoLine({ cognitoUser: plan.cognitoUser, userPool: target.userPool }, c)], ...dataLines(plan.data)];
  return [
    `To delete: user ${target.userId} of stack ${target.stack} (${target.region}; tables ${target.tables.pieces}, ${target.tables.sessions})`,
    table(rows.map(([k, v]) => [`  ${k}`, v])),
    "This cannot be undone. A device still signed in keeps its copy but never uploads it again; the same Google account can start over.",
  ].join("\n");
}

/** Deletes what `plan` shows (the API's deletion: data first, then the Cognito user). */
export async function deleteUser(deps: UserDeps, target: Target, plan: UserDeletePlan, dryRun: boolean): Promise<UserDeleteResult> {
  const base = { stack: target.stack, region: target.region, userPool: target.userPool, userId: target.userId, dryRun, plan };
  if (dryRun || plan.nothingToDelete) return { ...base, deleted: null, exitCode: EXIT.OK };
  const { store, run } = storeFor(deps, target);
  const r = await run(() => deleteAccount(store, { cognito: deps.cognito, userPoolId: target.userPool.id }, target.userId));
  return { ...base, deleted: { pieces: r.pieces, sessions: r.sessions, cognitoUser: r.cognitoUser, deletedAt: r.deletedAt }, exitCode: EXIT.OK };
}

export function renderUserDelete(r: UserDeleteResult, c: Colours): string {
  if (r.plan.nothingToDelete) {
    return `Nothing to delete for user ${r.userId}: no Cognito user and no data${r.plan.deletedAt ? ` (deleted ${r.plan.deletedAt})` : ""}.`;
  }
  if (!r.deleted) return c.yellow("--dry-run: nothing was deleted.");
  const d = r.deleted;
  const cognito = d.cognitoUser === "deleted" ? "the Cognito user" : "no Cognito user (there was none)";
  return c.green(`Deleted user ${r.userId}: ${plural(d.pieces, "piece")} (tombstones included), ${plural(d.sessions, "session")}, the sync state and ${cognito}.`);
}
