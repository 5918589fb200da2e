// The parts of a sync that pieces and sessions share: splitting a push into
// transactions, the read-plan-commit loop that retries on contention, the pull
// of changes in change order within a response budget, and the two cursor forms
// (a v1 client's whole-second time, a protocol-2 client's opaque cursor).
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

export interface Plan<R> {
  writes: PlannedWrite[];
  /** Builds the outcome once the writes are committed (stamp undefined: nothing written). */
  finish(stamp: CommitStamp | undefined): R;
}

const MAX_REPLANS = 8;

/**
 * Reads the user's state and the items named by `ids`, asks `plan` what to write,
 * and commits it; when another writer got there first, reads again and re-plans.
 */
export async function readPlanCommit<R>(
  store: Store,
  userId: string,
  kind: TableKind,
  ids: string[],
  plan: (existing: Map<string, Record<string, any>>, state: SyncState) => Plan<R>,
): Promise<R> {
  for (let attempt = 0; attempt < MAX_REPLANS; attempt++) {
    const state = await store.getSyncState(userId);
    const existing = await store.getMany(kind, userId, ids);
    const p = plan(existing, state);
    if (p.writes.length === 0) return p.finish(undefined);
    const stamp = await store.commit(userId, state, p.writes);
    if (stamp !== "conflict") return p.finish(stamp);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20 * (attempt + 1))));
  }
  throw new StoreUnavailableError(
    "contention",
    "Another device of yours was saving at the same moment. Your changes were not accepted yet; please sync again.",
  );
}

// ---- cursors -------------------------------------------------------------

export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

const CHANGE_KEY_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\|\d{12}$/;

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  if (!CHANGE_KEY_FORM.test(key)) {
    throw new ValidationError("invalid_cursor", "cursor is not one this server issued", [
      { path: "cursor", message: "is not a cursor this server issued" },
    ]);
  }
  return key;
}

/** The change time encoded in a change key, in ms. */
export function changeKeyTime(key: string): number {
  return Date.parse(key.slice(0, 24));
}

function isoSecond(ms: number): string {
  return new Date(floorSecond(ms)).toISOString().replace(".000Z", "Z");
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
