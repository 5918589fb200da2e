// POST /sessions: store the device's practice sessions (idempotent by sessionId;
// an end time that arrives later is kept) and answer with the user's sessions.
// A v1 request has no cursor, so a v1 answer lists the user's sessions newest
// first up to the response budget; protocol 2 pages by cursor instead.
import { MAX_SESSION_WRITES_PER_REQUEST, RESPONSE_BUDGET_BYTES } from "../../lib/limits";
import { CHANGE_KEY } from "../../lib/tables";
import type { SyncOptions } from "./pieces";
import { PlannedWrite, Store, SyncState } from "./store";
import { applyOps, decodeCursor, encodeCursor, escapedSize, isoMillis, pullChanges, stateKey } from "./sync-engine";
import { DEFAULT_PAGE_LIMIT, Refused, SessionInput, SessionsRequest } from "./validation";

export interface WireSession {
  sessionId: string;
  userId: string;
  pieceId: string;
  startedAt: string;
  endedAt?: string;
  createdAt: string;
}

export interface SessionsResponse {
  uploadedSessions: string[];
  serverSessions: WireSession[];
  syncedAt: string;
  cursor?: string;
  hasMore?: boolean;
  /** Protocol 2: sessions refused on their own (README, "Refused pieces and sessions"). */
  refusedSessions?: { sessionId?: string; index: number; code: Refused["code"]; message: string; fields?: Refused["fields"] }[];
}

export interface SessionsStats {
  pushed: number;
  written: number;
  refused: number;
  refusedReasons?: string;
  deferred: number;
  pulled: number;
  more: boolean;
}

/** A session as the app decodes it; its dates in the one form the app reads both start and end with. */
export function toWireSession(userId: string, item: Record<string, any>): WireSession {
  const s: WireSession = {
    sessionId: String(item.sessionId),
    userId,
    pieceId: String(item.pieceId),
    startedAt: isoMillis(item.startedAt),
    createdAt: isoMillis(item.createdAt),
  };
  if (item.endedAt) s.endedAt = isoMillis(item.endedAt);
  return s;
}

const later = (a?: string, b?: string) => (!a ? b : !b ? a : Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Stores a new session; a known one changes only when a later end time arrives (a
 * retry changes nothing). A session from before the account was deleted, from a device
 * still signed in, is not taken back (see ofDeletedAccount in pieces.ts).
 */
function decideSession(s: SessionInput, cur: Record<string, any> | undefined, state: SyncState): { write?: PlannedWrite; result: boolean } {
  if (!cur && state.accountDeletedAt && Date.parse(s.startedAt) <= Date.parse(state.accountDeletedAt)) return { result: false };
  if (!cur) {
    const item: Record<string, unknown> = { sessionId: s.sessionId, pieceId: s.pieceId, startedAt: s.startedAt, createdAt: s.createdAt };
    if (s.endedAt) item.endedAt = s.endedAt;
    return { write: { table: "sessions", item }, result: true };
  }
  const endedAt = later(cur.endedAt, s.endedAt);
  if (endedAt === cur.endedAt) return { result: true };
  const { seq, changedAt, [CHANGE_KEY]: ck, userId: _u, ...rest } = cur;
  return { write: { table: "sessions", item: { ...rest, endedAt }, expectedChangeKey: String(ck) }, result: true };
}

export async function syncSessions(
  store: Store,
  userId: string,
  req: SessionsRequest,
  opts: SyncOptions = {},
): Promise<{ response: SessionsResponse; stats: SessionsStats }> {
  // A v1 answer needs no sync state (it lists sessions newest first); protocol 2 pages from a cursor.
  let state = req.protocol === 2 ? await store.getSyncState(userId) : undefined;
  // A cursor this server did not issue to this user is a 400 before anything is pushed.
  const cursorKey = state && req.cursor ? decodeCursor(req.cursor, userId, stateKey(state)) : undefined;
  // A backlog past the cap waits for the next sync, unacknowledged.
  const toWrite = req.sessions.slice(0, MAX_SESSION_WRITES_PER_REQUEST);
  const r = await applyOps({
    store,
    userId,
    kind: "sessions",
    ops: toWrite,
    idOf: (s) => s.sessionId,
    decide: (s, cur, _now, st) => decideSession(s, cur, st),
    state,
  });
  const written = r.written;
  state = r.state;
  const uploaded = toWrite.filter((_, i) => r.results[i]).map((s) => s.sessionId);
  const index = new Map(req.sessions.map((x, i) => [x.sessionId, i]));
  const refused: Refused[] = [
    ...req.refused,
    ...toWrite
      .filter((_, i) => !r.results[i])
      .map((x) => ({
        index: index.get(x.sessionId)!,
        id: x.sessionId,
        code: "account_deleted" as const,
        message: "This session belongs to data deleted with the account; it is not stored again.",
      })),
  ];
  const refusedSessions = refused.map((x) => ({ sessionId: x.id, index: x.index, code: x.code, message: x.message, fields: x.fields }));
  const budget =
    (opts.responseBudgetBytes ?? RESPONSE_BUDGET_BYTES) - escapedSize(uploaded) - escapedSize(refusedSessions) - 4096;
  const base = {
    pushed: req.sessions.length,
    written,
    refused: refused.length,
    refusedReasons: refused.length ? refused.slice(0, 20).map((x) => `${x.index}:${x.code}`).join(",") : undefined,
    deferred: Math.max(0, req.sessions.length - MAX_SESSION_WRITES_PER_REQUEST),
  };

  if (req.protocol === 2) {
    if (!state?.exists) state = await store.ensureSyncState(userId);
    const page = await pullChanges<WireSession>({
      store,
      kind: "sessions",
      userId,
      state,
      start: cursorKey ? { kind: "after-key", key: cursorKey } : { kind: "all" },
      budget,
      limit: req.limit ?? DEFAULT_PAGE_LIMIT,
      exact: true,
      render: (item) => toWireSession(userId, item),
    });
    return {
      response: {
        uploadedSessions: uploaded,
        serverSessions: page.items,
        syncedAt: page.syncedAt,
        cursor: page.lastKey ? encodeCursor(page.lastKey, userId) : req.cursor,
        hasMore: page.more,
        refusedSessions,
      },
      stats: { ...base, pulled: page.items.length, more: page.more },
    };
  }

  // v1: every session the device could lack, newest first, within the budget.
  const mine = new Set(uploaded);
  const serverSessions: WireSession[] = [];
  let used = 0;
  let more = false;
  let startKey: Record<string, any> | undefined;
  outer: do {
    const r = await store.queryChanges("sessions", userId, { descending: true, exclusiveStartKey: startKey, limit: 500 });
    for (const item of r.items) {
      if (mine.has(String(item.sessionId))) continue;
      const w = toWireSession(userId, item);
      const n = escapedSize(w) + 1;
      if (used + n > budget) {
        more = true;
        break outer;
      }
      used += n;
      serverSessions.push(w);
    }
    startKey = r.lastKey;
  } while (startKey);
  return {
    response: {
      uploadedSessions: uploaded,
      serverSessions,
      syncedAt: new Date(store.now()).toISOString(),
    },
    stats: { ...base, pulled: serverSessions.length, more },
  };
}
