// `haumana-ops migrate`: copies the old backend's pieces and sessions into a stack's
// tables through the sync code's own write path, then checks every user's data, old
// against new.
//
// - Pieces go through importPieces (functions/core/pieces.ts) with mergeHeld: one the
//   stack lacks is stored at a version of this server's (above the old version, so
//   a device holding that version plus its local bumps takes the server's copy where
//   it must) with the old item's own dates as its edit times; one the stack already
//   holds (a device pushed it since the cutover) is merged with the old copy the way
//   a device's copy at an old version is merged, so neither side's later edits are
//   lost. Sessions go through syncSessions (functions/core/sessions.ts) as a v1
//   request: idempotent by sessionId, a later end time kept.
// - Every write is one of the store's conditional transactions, so a run killed at
//   any point leaves whole transactions only, and running it again stores exactly
//   what is missing; a second run writes nothing.
// - --dry-run runs the same decisions on a Store that plans but never commits, so
//   its counts are the engine's own; the plan shown before the question is that.
import { DescribeTableCommand, TableDescription } from "@aws-sdk/client-dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { importPieces } from "../../functions/core/pieces";
import { storeDocumentClient } from "../../functions/core/routes";
import { syncSessions } from "../../functions/core/sessions";
import { changeKey, CommitStamp, nextChangedAt, PlannedWrite, Store, StoreDeps, SyncState } from "../../functions/core/store";
import { StoreUnavailableError } from "../../functions/core/errors";
import { MAX_SESSION_WRITES_PER_REQUEST } from "../../lib/limits";
import { NameCollisionError, resourceNames } from "../../lib/names";
import { OLD_PIECES_TABLE, OLD_SESSIONS_TABLE, OldTableSchema, userOfSessionKey } from "../../lib/old-backend";
import type { StackSettings } from "../../lib/stack-config";
import { CHANGE_INDEX, PIECES_TABLE, SESSIONS_TABLE, TableSchema } from "../../lib/tables";
import { callerIdentity, CallerIdentity, requestFailure, send, Sender } from "../aws";
import { AwsRequestError, CliError, UsageError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";
import { cliCommand, rerunCommand } from "../invocation";
import { Colours, table } from "../ui";
import { buildUsers, isCognitoSub, OldItem, RefusedItem, resolveOwners, ResolvedOwner, scanTable, UnresolvedOwner, UserData } from "./migrate-source";
import { Finding, readUserItems, UserCheck, verifyUser } from "./migrate-verify";

export interface MigrateOptions {
  settings: StackSettings;
  /** Where the tables are: the stack's region, or --region. */
  region: string;
  fromPieces: string;
  fromSessions: string;
  /** --user-pool, in the order given: where Cognito subs are looked up. */
  userPools: string[];
  dryRun?: boolean;
}

export interface MigrateDeps {
  dynamodb: DynamoDBClient;
  sts: Sender;
  /** Cognito, for --user-pool. */
  cognito?: Sender;
  /** Asked with the plan before anything is written; throws to stop. Absent: go ahead (--yes). */
  confirm?: (plan: MigratePlan) => Promise<void>;
  /** Progress for a spinner (replaces the previous label). */
  progress?: (label: string) => void;
  /** A line of progress for stderr (each phase as it ends). */
  info?: (line: string) => void;
  /** The target store's settings a test may change (its document client, clock, sleep). */
  store?: Partial<StoreDeps>;
}

export interface PieceCounts {
  stored: number;
  merged: number;
  present: number;
  refused: number;
}

export interface SessionCounts {
  written: number;
  present: number;
  refused: number;
}

export interface MigratePlan {
  stack: string;
  region: string;
  account: CallerIdentity;
  from: { pieces: string; sessions: string };
  to: { pieces: string; sessions: string };
  /** --user-pool, as given. */
  userPools: string[];
  read: {
    pieceItems: number;
    sessionItems: number;
    /** Distinct old owners (Google and Cognito subs). */
    owners: number;
    users: number;
    /** Older copies of a piece held under two owners of one user (the latest copy is taken). */
    supersededPieceCopies: number;
    duplicateSessionCopies: number;
  };
  owners: { resolved: ResolvedOwner[]; unresolved: (UnresolvedOwner & { pieceItems: number; sessionItems: number })[] };
  /** What the copy does (with --yes, not computed before: counted as it goes). */
  pieces?: PieceCounts;
  sessions?: SessionCounts;
}

export interface MigrateResult extends MigratePlan {
  exitCode: ExitCode;
  dryRun: boolean;
  pieces: PieceCounts;
  sessions: SessionCounts;
  /** Items not copied, with the sync's reason (invalid, too large, out of versions, account deleted). */
  refused: RefusedItem[];
  verification?: {
    ok: boolean;
    users: UserCheck[];
    differences: Finding[];
    notes: Finding[];
  };
  /** True when everything was copied and verified (a dry run: when everything can be). */
  ok: boolean;
  seconds: number;
}

/** Users copied at once. */
const USER_CONCURRENCY = 4;
/** Pieces handed to importPieces at once (it commits them in transactions of up to 99). */
const PIECE_CHUNK = 495;
/** Times a chunk is tried again after the store ran out of retries (throttling, contention). */
const CHUNK_RETRIES = 3;

/**
 * A Store that reads like the real one and decides with the same code, but never
 * writes: a commit is only counted, and answers as if it had landed.
 */
class PlanningStore extends Store {
  async commit(_userId: string, state: SyncState, writes: PlannedWrite[]): Promise<CommitStamp> {
    const changedAt = nextChangedAt(state.exists ? state.changedAt : undefined, this.now());
    const seq = state.seq + writes.length;
    return { seq, changedAt, changeKey: changeKey(changedAt, seq), state: { ...state, seq, changedAt, exists: true } };
  }
  async ensureSyncState(userId: string): Promise<SyncState> {
    return this.getSyncState(userId);
  }
  withDeadline(): Store {
    return this;
  }
}

// ---- tables ------------------------------------------------------------------

async function describe(dynamodb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    const r = await send<{ Table?: TableDescription }>(dynamodb, new DescribeTableCommand({ TableName: table }));
    return r.Table;
  } catch (err) {
    if (err instanceof AwsRequestError && err.awsName === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

const keyOf = (t: TableDescription, type: "HASH" | "RANGE") => t.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
const hasChangeIndex = (t: TableDescription) => (t.LocalSecondaryIndexes ?? []).some((i) => i.IndexName === CHANGE_INDEX);

function checkSource(t: TableDescription | undefined, name: string, schema: OldTableSchema, option: string, region: string): void {
  if (!t) throw new UsageError(`${option} ${name}: no such table in ${region}.`);
  if (hasChangeIndex(t)) throw new UsageError(`${option} ${name} is a table of this program (it has the ${CHANGE_INDEX} index), not one of the old backend.`);
  if (keyOf(t, "HASH") !== schema.hashKey || keyOf(t, "RANGE") !== schema.rangeKey) {
    throw new UsageError(
      `${option} ${name} is keyed ${keyOf(t, "HASH")}/${keyOf(t, "RANGE")}; the old backend's table is keyed ${schema.hashKey}/${schema.rangeKey}.`,
    );
  }
}

function checkTarget(t: TableDescription | undefined, name: string, schema: TableSchema, stack: string, region: string): void {
  if (!t) {
    throw new CliError(`The stack's table ${name} does not exist in ${region}: deploy stack ${stack} first (pulumi up).`, "target_missing");
  }
  const indexes = (t.LocalSecondaryIndexes ?? []).map((i) => i.IndexName);
  if (keyOf(t, "HASH") !== schema.hashKey || keyOf(t, "RANGE") !== schema.rangeKey || !schema.indexes.every((i) => indexes.includes(i.name))) {
    throw new CliError(`The table ${name} is not one of this program's ${schema.key} tables (keys or indexes differ): nothing was written.`, "target_schema");
  }
}

/** The stack's table names, from the one definition of names (which refuses a prefix that reuses the live deployment's). */
function stackNames(settings: StackSettings) {
  try {
    return resourceNames(settings.namePrefix);
  } catch (err) {
    if (err instanceof NameCollisionError) throw new UsageError(`Pulumi.${settings.stack}.yaml: ${err.message}`);
    throw err;
  }
}

// ---- helpers -------------------------------------------------------------------

function chunks<T>(list: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

/** Runs `work` over `items`, `n` at a time. */
async function eachLimited<T>(items: T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

const RESUME = "What was written so far stays; running the same command again copies the rest.";

/** A failure of the store's reads or writes as the CLI reports it. */
function storeFailure(err: unknown, what: string): unknown {
  if (err instanceof CliError) return err;
  if (err instanceof StoreUnavailableError) {
    const why = err.code === "contention" ? "another writer kept changing the same user's data" : `${err.causeName ?? err.code}`;
    return new CliError(`DynamoDB did not complete ${what} after its retries (${why}). ${RESUME}`, "store_unavailable", EXIT.FAILURE, `Run it again: ${rerunCommand()}`);
  }
  if ((err as { $metadata?: unknown })?.$metadata !== undefined || (err as Error)?.name === "TimeoutError") {
    const e = requestFailure(err);
    e.message = `${e.message} (${what}). ${RESUME}`;
    return e;
  }
  return err;
}

/** Runs one chunk of writes, again when the store ran out of retries (each chunk is idempotent). */
async function persist<T>(store: Store, what: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) || attempt >= CHUNK_RETRIES) throw storeFailure(err, what);
      await store.backoff(6 + attempt);
    }
  }
}

// ---- the run -------------------------------------------------------------------

export async function migrate(deps: MigrateDeps, opts: MigrateOptions): Promise<MigrateResult> {
  const started = Date.now();
  const { settings } = opts;
  const { region } = opts;
  const names = stackNames(settings);
  const to = { pieces: names.piecesTable, sessions: names.sessionsTable };
  const from = { pieces: opts.fromPieces, sessions: opts.fromSessions };
  for (const [option, name] of [["--from-pieces", from.pieces], ["--from-sessions", from.sessions]] as const) {
    if (name === to.pieces || name === to.sessions) throw new UsageError(`${option} ${name} is a table of stack ${settings.stack}: the old backend's tables are read, the stack's written.`);
  }
  if (from.pieces === from.sessions) throw new UsageError(`--from-pieces and --from-sessions name the same table ${from.pieces}.`);

  const info = deps.info ?? (() => undefined);
  const progress = deps.progress ?? (() => undefined);
  progress("Reading the account and the tables…");
  const account = await callerIdentity(deps.sts);
  const [sp, ss, tp, ts] = await Promise.all([from.pieces, from.sessions, to.pieces, to.sessions].map((t) => describe(deps.dynamodb, t)));
  checkSource(sp, from.pieces, OLD_PIECES_TABLE, "--from-pieces", region);
  checkSource(ss, from.sessions, OLD_SESSIONS_TABLE, "--from-sessions", region);
  checkTarget(tp, to.pieces, PIECES_TABLE, settings.stack, region);
  checkTarget(ts, to.sessions, SESSIONS_TABLE, settings.stack, region);

  const storeDeps: StoreDeps = { doc: storeDocumentClient(deps.dynamodb), piecesTable: to.pieces, sessionsTable: to.sessions, ...deps.store };
  const store = new Store(storeDeps);

  // ---- read the old tables
  let t0 = Date.now();
  const read = async (table: string) => {
    try {
      return await scanTable(deps.dynamodb, store, table, (count) => progress(`Reading ${table}: ${n(count)} items…`));
    } catch (err) {
      throw storeFailure(err, `reading ${table}`);
    }
  };
  const pieceItems = await read(from.pieces);
  const sessionItems = await read(from.sessions);
  info(`Read ${from.pieces} (${n(pieceItems.length)} items) and ${from.sessions} (${n(sessionItems.length)} items) in ${seconds(t0)} s.`);

  // ---- owners
  const ownerCounts = countOwners(pieceItems, sessionItems);
  const cognitoSubs = [...ownerCounts.keys()].filter(isCognitoSub).sort();
  progress(`Resolving ${cognitoSubs.length} Cognito subs…`);
  const { resolved, unresolved } = await resolveOwners(deps.cognito, opts.userPools, cognitoSubs);
  const owners = new Map<string, string>();
  for (const owner of ownerCounts.keys()) if (!isCognitoSub(owner)) owners.set(owner, owner);
  for (const r of resolved) owners.set(r.cognitoSub, r.userId);
  const built = buildUsers(pieceItems, sessionItems, owners);
  const users = [...built.users.values()].sort((a, b) => b.pieces.length + b.sessions.length - (a.pieces.length + a.sessions.length));

  const plan: MigratePlan = {
    stack: settings.stack,
    region,
    account,
    from,
    to,
    userPools: opts.userPools,
    read: {
      pieceItems: pieceItems.length,
      sessionItems: sessionItems.length,
      owners: ownerCounts.size,
      users: users.length,
      supersededPieceCopies: users.reduce((n, u) => n + u.supersededPieces.length, 0),
      duplicateSessionCopies: users.reduce((n, u) => n + u.duplicateSessions, 0),
    },
    owners: {
      resolved,
      unresolved: unresolved.map((u) => ({ ...u, pieceItems: ownerCounts.get(u.owner)!.pieces, sessionItems: ownerCounts.get(u.owner)!.sessions })),
    },
  };

  // ---- plan (the engine's decisions, nothing committed), unless going ahead anyway
  const askFirst = !!deps.confirm;
  if (opts.dryRun || askFirst) {
    t0 = Date.now();
    const planned = await copy(new PlanningStore(storeDeps), users, progress, "Planning");
    plan.pieces = planned.pieces;
    plan.sessions = planned.sessions;
    info(`Planned in ${seconds(t0)} s.`);
    if (opts.dryRun) {
      const refused = [...built.unowned, ...allRefused(users, planned.refused)];
      const ok = refused.length === 0 && unresolved.length === 0;
      return { ...plan, pieces: planned.pieces, sessions: planned.sessions, refused, dryRun: true, ok, exitCode: ok ? EXIT.OK : EXIT.FAILURE, seconds: seconds(started) };
    }
    await deps.confirm!(plan);
  }

  // ---- copy
  t0 = Date.now();
  const copied = await copy(store, users, progress, "Copying");
  info(
    `Copied in ${seconds(t0)} s: pieces ${n(copied.pieces.stored)} stored, ${n(copied.pieces.merged)} merged, ${n(copied.pieces.present)} already there; ` +
      `sessions ${n(copied.sessions.written)} written, ${n(copied.sessions.present)} already there.`,
  );

  // ---- verify
  t0 = Date.now();
  const checks: UserCheck[] = [];
  const differences: Finding[] = [];
  const notes: Finding[] = [];
  let verified = 0;
  await eachLimited(users, USER_CONCURRENCY, async (user) => {
    let newPieces: Map<string, OldItem>;
    let newSessions: Map<string, OldItem>;
    try {
      [newPieces, newSessions] = await Promise.all([readUserItems(store, "pieces", user.userId), readUserItems(store, "sessions", user.userId)]);
    } catch (err) {
      throw storeFailure(err, `reading user ${user.userId} back`);
    }
    const refusedNow = copied.refused.get(user.userId) ?? [];
    const refusedIds = new Set(refusedNow.map((r) => r.id));
    const v = verifyUser({ ...user, pieces: user.pieces.filter((p) => !refusedIds.has(p.pieceId)), refused: [...user.refused, ...refusedNow] }, newPieces, newSessions);
    checks.push(v.check);
    differences.push(...v.differences);
    notes.push(...v.notes);
    progress(`Verifying: ${++verified}/${users.length} users…`);
  });
  info(`Verified ${users.length} users in ${seconds(t0)} s.`);
  for (const r of built.unowned) differences.push({ userId: r.userId, kind: r.kind, id: r.id ?? "(no id)", problem: `not copied: ${r.code}: ${r.message}` });
  const byUser = (a: { userId: string }, b: { userId: string }) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0);
  checks.sort(byUser);
  differences.sort(byUser);
  notes.sort(byUser);
  const refused = [...built.unowned, ...allRefused(users, copied.refused)];
  const ok = differences.length === 0 && unresolved.length === 0;
  return {
    ...plan,
    pieces: copied.pieces,
    sessions: copied.sessions,
    refused,
    dryRun: false,
    verification: { ok: differences.length === 0, users: checks, differences, notes },
    ok,
    exitCode: ok ? EXIT.OK : EXIT.FAILURE,
    seconds: seconds(started),
  };
}

const seconds = (since: number) => Math.round((Date.now() - since) / 100) / 10;

function countOwners(pieceItems: OldItem[], sessionItems: OldItem[]): Map<string, { pieces: number; sessions: number }> {
  const out = new Map<string, { pieces: number; sessions: number }>();
  const at = (owner: string) => out.get(owner) ?? (out.set(owner, { pieces: 0, sessions: 0 }), out.get(owner)!);
  for (const it of pieceItems) at(String(it[OLD_PIECES_TABLE.hashKey])).pieces++;
  for (const it of sessionItems) {
    const owner = userOfSessionKey(it[OLD_SESSIONS_TABLE.hashKey]);
    if (owner !== undefined) at(owner).sessions++;
  }
  return out;
}

function allRefused(users: UserData[], atWrite: Map<string, RefusedItem[]>): RefusedItem[] {
  return users.flatMap((u) => [...u.refused, ...(atWrite.get(u.userId) ?? [])]);
}

/** Copies (or, on a PlanningStore, plans) every user's pieces and sessions. */
async function copy(
  store: Store,
  users: UserData[],
  progress: (label: string) => void,
  verb: string,
): Promise<{ pieces: PieceCounts; sessions: SessionCounts; refused: Map<string, RefusedItem[]> }> {
  // Items a sync would refuse are refused before anything is sent.
  const refusedBefore = (kind: RefusedItem["kind"]) => users.reduce((n, u) => n + u.refused.filter((r) => r.kind === kind).length, 0);
  const pieces: PieceCounts = { stored: 0, merged: 0, present: 0, refused: refusedBefore("piece") };
  const sessions: SessionCounts = { written: 0, present: 0, refused: refusedBefore("session") };
  const refused = new Map<string, RefusedItem[]>();
  const total = { pieces: users.reduce((n, u) => n + u.pieces.length, 0), sessions: users.reduce((n, u) => n + u.sessions.length, 0) };
  let donePieces = 0;
  let doneSessions = 0;
  const show = () =>
    progress(
      `${verb}: ${donePieces.toLocaleString("en-US")}/${total.pieces.toLocaleString("en-US")} pieces, ` +
        `${doneSessions.toLocaleString("en-US")}/${total.sessions.toLocaleString("en-US")} sessions…`,
    );
  show();
  await eachLimited(users, USER_CONCURRENCY, async (user) => {
    const { userId } = user;
    const mine: RefusedItem[] = [];
    for (const chunk of chunks(user.pieces, PIECE_CHUNK)) {
      const results = await persist(store, `the pieces of user ${userId}`, () => importPieces(store, userId, chunk, { mergeHeld: true }));
      results.forEach((r, i) => {
        pieces[r.status]++;
        if (r.status === "refused") mine.push({ userId, kind: "piece", id: chunk[i].pieceId, code: r.code, message: r.message });
      });
      donePieces += chunk.length;
      show();
    }
    for (const chunk of chunks(user.sessions, MAX_SESSION_WRITES_PER_REQUEST)) {
      const { response, stats } = await persist(store, `the sessions of user ${userId}`, () => syncSessions(store, userId, { sessions: chunk, refused: [] }));
      const accepted = new Set(response.uploadedSessions);
      sessions.written += stats.written;
      sessions.present += accepted.size - stats.written;
      for (const s of chunk) {
        if (accepted.has(s.sessionId)) continue;
        sessions.refused++;
        mine.push({ userId, kind: "session", id: s.sessionId, code: "account_deleted", message: "the account was deleted on the new backend: its sessions are not taken back" });
      }
      doneSessions += chunk.length;
      show();
    }
    if (mine.length) refused.set(userId, mine);
  });
  return { pieces, sessions, refused };
}

// ---- output --------------------------------------------------------------------

const n = (v: number) => v.toLocaleString("en-US");
const plural = (v: number, one: string, many = `${one}s`) => `${n(v)} ${v === 1 ? one : many}`;

function ownersLine(p: MigratePlan): string | undefined {
  const subs = p.owners.resolved.length + p.owners.unresolved.length;
  if (subs === 0) return undefined;
  const pools = [...new Set(p.owners.resolved.map((r) => r.userPool))];
  const parts = [`${plural(subs, "Cognito sub")}: ${n(p.owners.resolved.length)} resolved${pools.length ? ` through ${pools.join(", ")}` : ""}`];
  if (p.owners.unresolved.length) {
    const items = p.owners.unresolved.reduce((a, u) => ({ pieces: a.pieces + u.pieceItems, sessions: a.sessions + u.sessionItems }), { pieces: 0, sessions: 0 });
    parts.push(`${n(p.owners.unresolved.length)} not (${plural(items.pieces, "piece")} and ${plural(items.sessions, "session")} not copied)`);
  }
  return parts.join(", ");
}

/** The plan, as shown before the question (stderr) and as a dry run's result. */
export function renderMigratePlan(p: MigratePlan, c: Colours, heading = "Migrate"): string {
  return `${c.bold(heading)}\n${indent(table(planRows(p)))}`;
}

function planRows(p: MigratePlan): string[][] {
  const rows: string[][] = [
    ["from", `${p.from.pieces}, ${p.from.sessions}`],
    ["into", `${p.to.pieces}, ${p.to.sessions} (stack ${p.stack}, ${p.region}, account ${p.account.account})`],
    ["read", `${plural(p.read.pieceItems, "piece item")}, ${plural(p.read.sessionItems, "session item")}; ${plural(p.read.owners, "owner")} → ${plural(p.read.users, "user")}`],
  ];
  const owners = ownersLine(p);
  if (owners) rows.push(["owners", owners]);
  if (p.read.supersededPieceCopies || p.read.duplicateSessionCopies) {
    rows.push(["copies", `${plural(p.read.supersededPieceCopies, "older piece copy", "older piece copies")} and ${plural(p.read.duplicateSessionCopies, "session copy", "session copies")} under a second owner of the same user (the latest piece is taken, a session once)`]);
  }
  if (p.pieces) rows.push(["pieces", `${n(p.pieces.stored)} to store, ${n(p.pieces.merged)} to merge with the copy there, ${n(p.pieces.present)} already there, ${n(p.pieces.refused)} refused`]);
  if (p.sessions) rows.push(["sessions", `${n(p.sessions.written)} to write, ${n(p.sessions.present)} already there, ${n(p.sessions.refused)} refused`]);
  return rows;
}

const indent = (s: string) => s.replace(/^/gm, "  ");

function findingLine(f: Finding): string {
  const what = `user ${f.userId}, ${f.kind} ${f.id}${f.field ? `, ${f.field}` : ""}`;
  const values = "old" in f || "new" in f ? `: ${JSON.stringify(f.old ?? null)} → ${JSON.stringify(f.new ?? null)}` : "";
  return `${what}: ${f.problem}${values}`;
}

const SHOWN = 50;

function listed<T>(items: T[], line: (t: T) => string): string[] {
  const out = items.slice(0, SHOWN).map((t) => `  ${line(t)}`);
  if (items.length > SHOWN) out.push(`  … and ${n(items.length - SHOWN)} more (all of them under --json)`);
  return out;
}

export function renderMigrate(r: MigrateResult, c: Colours): string {
  if (r.dryRun) {
    const lines = [renderMigratePlan(r, c, "Dry run: nothing was written")];
    if (r.owners.unresolved.length || r.refused.length) lines.push("", c.red("Not copied by a run:"), ...notCopied(r));
    lines.push("", r.ok ? `${c.green("✓")} Everything can be copied. To copy: ${cliCommand(...copyWords(r))}` : `${c.red("✗")} Some items cannot be copied (above); a run would exit 1.`);
    return lines.join("\n");
  }
  const v = r.verification!;
  const failed = v.users.filter((u) => !u.ok).length;
  const rows: string[][] = [
    ...planRows({ ...r, pieces: undefined, sessions: undefined }),
    ["pieces", `${n(r.pieces.stored)} stored, ${n(r.pieces.merged)} merged with the copy there, ${n(r.pieces.present)} already there, ${n(r.pieces.refused)} refused`],
    ["sessions", `${n(r.sessions.written)} written, ${n(r.sessions.present)} already there, ${n(r.sessions.refused)} refused`],
    ["verified", `${plural(v.users.length, "user")}: ${n(v.users.length - failed)} ${c.green("✓")}${failed ? `, ${n(failed)} ${c.red("✗")}` : ""} (pieces and sessions, counts and content, old against new)`],
  ];
  const lines = [c.bold("Migrated"), indent(table(rows))];
  if (v.differences.length || r.owners.unresolved.length) {
    lines.push("", c.red(`✗ ${plural(v.differences.length + r.owners.unresolved.length, "difference")}:`));
    lines.push(...listed(r.owners.unresolved, unresolvedLine), ...listed(v.differences, findingLine));
  }
  if (v.notes.length) lines.push("", c.dim(`Notes (not differences: changed on the new backend since, or dates of a device's copy):`), ...listed(v.notes, findingLine).map((l) => c.dim(l)));
  lines.push(
    "",
    r.ok
      ? `${c.green("✓")} Every old piece and session is in the stack's tables (${r.seconds} s). A second run writes nothing.`
      : `${c.red("✗")} Differences above (${r.seconds} s); exit 1.`,
  );
  return lines.join("\n");
}

/** The command line of the copy a dry run planned. */
function copyWords(r: MigratePlan): string[] {
  return ["migrate", "--from-pieces", r.from.pieces, "--from-sessions", r.from.sessions, ...r.userPools.flatMap((p) => ["--user-pool", p])];
}

function unresolvedLine(u: MigratePlan["owners"]["unresolved"][number]): string {
  return `owner ${u.owner}: ${plural(u.pieceItems, "piece")} and ${plural(u.sessionItems, "session")} not copied: ${u.reason}`;
}

function notCopied(r: MigrateResult): string[] {
  return [
    ...listed(r.owners.unresolved, unresolvedLine),
    ...listed(r.refused, (x) => `user ${x.userId}, ${x.kind} ${x.id ?? "(no id)"}: ${x.code}: ${x.message}`),
  ];
}
