// The parts of a sync that pieces and sessions share: the read-decide-commit loop
// that splits a push into transactions by the size of what it writes and retries
// on contention, the pull of changes in change order within a response budget,
// the two cursor forms (a v1 client's whole-second time, a protocol-2 client's
// opaque cursor tied to its user) and the date form of every answer.
import { createHash } from "node:crypto";
import { plainItemBytes } from "../../lib/item-size";
import { MAX_ITEMS_PER_TRANSACTION, MAX_TRANSACTION_BYTES, RESPONSE_BUDGET_BYTES } from "../../lib/limits";
import { CHANGE_KEY } from "../../lib/tables";
import { StoreUnavailableError, ValidationError } from "./errors";
import { changeKey, CommitStamp, floorSecond, PlannedWrite, Store, SyncState, TableKind } from "./store";

/** Bytes `value` takes inside a Lambda proxy result (JSON inside a JSON string). */
export function escapedSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(value)), "utf8") - 2;
}

/** Splits items into groups that each fit one transaction. */
export function groupForTransactions<T>(items: T[], sizeOf: (t: T) => number): T[][] {
  const groups: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const n = sizeOf(it);
    if (cur.length > 0 && (cur.length >= MAX_ITEMS_PER_TRANSACTION || bytes + n > MAX_TRANSACTION_BYTES)) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += n;
  }
  if (cur.length) groups.push(cur);
  return groups;
}

/** What one operation of a push does: the write it needs (if any) and its outcome once written. */
export interface Decision<R> {
  write?: PlannedWrite;
  result: R;
}

/** Plans of one push at most; the request's deadline usually ends a losing streak first. */
const MAX_REPLANS = 40;
/** Keys, change key, sequence and change time that commit() adds to every item. */
const COMMIT_OVERHEAD_BYTES = 200;

/** Bytes a planned write takes in a transaction, as DynamoDB sizes items. */
export function writeBytes(w: PlannedWrite): number {
  return plainItemBytes(w.item) + COMMIT_OVERHEAD_BYTES;
}

export interface ApplyResult<R> {
  /** Outcome of each operation, in order. */
  results: R[];
  written: number;
  /** The user's sync state after the last commit, or as read (undefined: there was nothing to do and no state was given). */
  state: SyncState | undefined;
}

/**
 * Reads the items the operations name, decides each one against what is stored,
 * and commits the writes in transactions grouped by the size and number of the
 * items they write (so a merge that writes more than the device sent still fits).
 * When another writer got there first, the operations not yet committed are read
 * and decided again. Each operation's result is kept only once its write (if any)
 * is committed.
 */
export async function applyOps<O, R>(o: {
  store: Store;
  userId: string;
  kind: TableKind;
  ops: O[];
  idOf: (op: O) => string;
  /** Decides one operation against its stored item, under the user's state as read. */
  decide: (op: O, stored: Record<string, any> | undefined, nowMs: number, state: SyncState) => Decision<R>;
  /** The state already read for this request, if any. */
  state?: SyncState;
}): Promise<ApplyResult<R>> {
  const { store, userId } = o;
  const results: R[] = new Array(o.ops.length);
  if (o.ops.length === 0) return { results, written: 0, state: o.state };
  let state = o.state ?? (await store.getSyncState(userId));
  let pending = o.ops.map((_, i) => i);
  let written = 0;
  for (let attempt = 0; pending.length > 0; attempt++) {
    // A writer that lost the race waits (exponential, jittered) before it reads again,
    // so a device that keeps syncing cannot starve another one of the same user.
    if (attempt >= MAX_REPLANS || store.pastDeadline() || (attempt > 0 && !(await store.backoff(attempt - 1)))) {
      throw new StoreUnavailableError(
        "contention",
        "Another device of yours was saving at the same moment. Your changes were not accepted yet; please sync again.",
      );
    }
    if (attempt > 0) state = await store.getSyncState(userId);
    const stored = await store.getMany(o.kind, userId, pending.map((i) => o.idOf(o.ops[i])));
    const nowMs = store.now();
    const toWrite: { i: number; write: PlannedWrite; result: R }[] = [];
    for (const i of pending) {
      const d = o.decide(o.ops[i], stored.get(o.idOf(o.ops[i])), nowMs, state);
      if (d.write) toWrite.push({ i, write: d.write, result: d.result });
      else results[i] = d.result;
    }
    pending = [];
    const groups = groupForTransactions(toWrite, (t) => writeBytes(t.write));
    for (let g = 0; g < groups.length; g++) {
      const stamp = await store.commit(userId, state, groups[g].map((t) => t.write));
      if (stamp === "conflict") {
        pending = groups.slice(g).flatMap((grp) => grp.map((t) => t.i));
        break;
      }
      state = stamp.state;
      written += groups[g].length;
      for (const t of groups[g]) results[t.i] = t.result;
    }
  }
  return { results, written, state };
}

// ---- cursors -------------------------------------------------------------

/** A short tag of the user a cursor was issued to. */
function userTag(userId: string): string {
  return createHash("sha256").update(userId).digest("base64url").slice(0, 12);
}

export function encodeCursor(key: string, userId: string): string {
  return Buffer.from(`${key}|${userTag(userId)}`, "utf8").toString("base64url");
}

const CURSOR_FORM = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\|\d{12})\|([A-Za-z0-9_-]{12})$/;

function invalidCursor(why: string): ValidationError {
  return new ValidationError("invalid_cursor", `cursor ${why}; start over without a cursor`, [
    { path: "cursor", message: `${why}` },
  ]);
}

/**
 * The change key in a protocol-2 cursor. It must be one this server issued to this
 * user: well formed, tagged with this user, and not past the user's latest change
 * (`upTo`, the counter's change key; no cursor is ever issued beyond it).
 */
export function decodeCursor(cursor: string, userId: string, upTo: string | undefined): string {
  const m = CURSOR_FORM.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw invalidCursor("is not one this server issued");
  if (m[2] !== userTag(userId)) throw invalidCursor("was issued to another user");
  if (upTo === undefined || m[1] > upTo) throw invalidCursor("is ahead of every change this server holds for you");
  return m[1];
}

/** The counter's change key of a state: nothing a cursor points to is above it. */
export function stateKey(state: SyncState): string | undefined {
  return state.exists && state.seq > 0 ? changeKey(state.changedAt, state.seq) : undefined;
}

/**
 * A date as every answer writes it: UTC with exactly three fraction digits
 * (2025-06-18T12:34:56.000Z), the same instant. The app reads some dates only in
 * this form (../shared/ios-sync-contract.md, "Dates").
 */
export function isoMillis(date: string | number): string {
  const ms = typeof date === "number" ? date : Date.parse(date);
  return new Date(Number.isNaN(ms) ? 0 : ms).toISOString();
}

/** The change time encoded in a change key, in ms. */
export function changeKeyTime(key: string): number {
  return Date.parse(key.slice(0, 24));
}

function isoSecond(ms: number): string {
  return new Date(floorSecond(ms)).toISOString();
}

/**
 * The syncedAt a v1 client may echo back when it has everything up to `state`:
 * the whole second after the latest change (every later change is at or after it,
 * see nextChangedAt in store.ts).
 */
export function completeSyncedAt(state: SyncState): string {
  return isoSecond(floorSecond(Date.parse(state.changedAt)) + 1000);
}

// ---- pull -----------------------------------------------------------------

export type PullStart =
  | { kind: "all" }
  /** v1: changes at or after this time (whole seconds). */
  | { kind: "since-time"; ms: number }
  /** protocol 2: changes after this change key. */
  | { kind: "after-key"; key: string };

export interface PullOptions<W> {
  store: Store;
  kind: TableKind;
  userId: string;
  state: SyncState;
  start: PullStart;
  /** Escaped bytes this page may use. */
  budget: number;
  /** Most items in the page (protocol 2), or Infinity. */
  limit: number;
  /** Wire form of an item, or undefined to leave it out of the page (it still counts as read). */
  render: (item: Record<string, any>) => W | undefined;
  /** Query page size. */
  queryLimit?: number;
  /** Protocol 2: the page may end between any two changes (the cursor is exact). */
  exact: boolean;
}

export interface PullResult<W> {
  items: W[];
  /** True when changes remain beyond this page. */
  more: boolean;
  /** Key of the last change the page covers (cursor for protocol 2). */
  lastKey?: string;
  /** What a v1 client should send next as lastSyncedAt. */
  syncedAt: string;
}

/**
 * Reads the changes from `start` up to the user's counter as read in `state`, in
 * change order, until the budget or the limit is reached. Items written after
 * `state` was read are left for the next sync, so a transaction that is still
 * becoming visible can never be half-read past. A v1 page that must stop ends at
 * a whole second, so the next sync's lastSyncedAt resumes exactly there.
 */
export async function pullChanges<W>(o: PullOptions<W>): Promise<PullResult<W>> {
  const upper = changeKey(o.state.changedAt, o.state.seq);
  const lower =
    o.start.kind === "after-key"
      ? o.start.key
      : o.start.kind === "since-time"
        ? new Date(floorSecond(o.start.ms)).toISOString()
        : undefined;
  const page: { key: string; wire?: W; size: number }[] = [];
  let used = 0;
  let truncatedAt: string | undefined;
  let startKey: Record<string, any> | undefined;
  let count = 0;
  // Nothing can lie between a lower bound past the counter and the counter.
  const empty = o.state.seq === 0 || (lower !== undefined && lower > upper);
  outer: do {
    if (empty) break;
    const r = await o.store.queryChanges(o.kind, o.userId, {
      lower,
      upper,
      exclusiveStartKey: startKey,
      limit: o.queryLimit ?? 200,
    });
    for (const item of r.items) {
      const key = String(item[CHANGE_KEY]);
      if (o.start.kind === "after-key" && key === o.start.key) continue;
      const wire = o.render(item);
      const size = wire === undefined ? 0 : escapedSize(wire) + 1;
      if ((wire !== undefined && used + size > o.budget) || (wire !== undefined && count >= o.limit)) {
        truncatedAt = key;
        break outer;
      }
      page.push({ key, wire, size });
      used += size;
      if (wire !== undefined) count++;
    }
    startKey = r.lastKey;
  } while (startKey);

  if (truncatedAt === undefined) {
    return {
      items: page.flatMap((p) => (p.wire === undefined ? [] : [p.wire])),
      more: false,
      lastKey: o.state.seq > 0 ? upper : o.start.kind === "after-key" ? o.start.key : undefined,
      syncedAt: completeSyncedAt(o.state),
    };
  }
  const startMs =
    o.start.kind === "since-time"
      ? floorSecond(o.start.ms)
      : o.start.kind === "after-key"
        ? changeKeyTime(o.start.key)
        : 0;
  if (o.exact) {
    // Protocol 2 pages by cursor, item by item. Its syncedAt only has to be safe:
    // the second of the last change it received.
    const last = page.length ? page[page.length - 1].key : o.start.kind === "after-key" ? o.start.key : undefined;
    return {
      items: page.flatMap((p) => (p.wire === undefined ? [] : [p.wire])),
      more: true,
      lastKey: last,
      syncedAt: isoSecond(last ? changeKeyTime(last) : startMs),
    };
  }
  // v1: cut back to the start of the second of the first change that did not fit;
  // the next lastSyncedAt is that second, so nothing is skipped.
  const cutSecond = floorSecond(changeKeyTime(truncatedAt));
  const kept = page.filter((p) => changeKeyTime(p.key) < cutSecond);
  return {
    items: kept.flatMap((p) => (p.wire === undefined ? [] : [p.wire])),
    more: true,
    lastKey: kept.length ? kept[kept.length - 1].key : undefined,
    syncedAt: isoSecond(Math.max(cutSecond, startMs)),
  };
}

export { RESPONSE_BUDGET_BYTES };
