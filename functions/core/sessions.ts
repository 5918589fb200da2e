// POST /sessions: store the device's practice sessions (idempotent by sessionId;
// an end time that arrives later is kept) and answer with the user's sessions.
// A v1 request has no cursor, so a v1 answer lists the user's sessions newest
// first up to the response budget; protocol 2 pages by cursor instead.
import { RESPONSE_BUDGET_BYTES } from "../../lib/limits";
import { CHANGE_KEY } from "../../lib/tables";
import type { SyncOptions } from "./pieces";
import { Store } from "./store";
import {
  decodeCursor,
  encodeCursor,
  escapedSize,
  groupForTransactions,
  pullChanges,
  readPlanCommit,
} from "./sync-engine";
import { DEFAULT_PAGE_LIMIT, SessionInput, SessionsRequest } from "./validation";

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
}

export interface SessionsStats {
  pushed: number;
  written: number;
  pulled: number;
  more: boolean;
}

export function toWireSession(userId: string, item: Record<string, any>): WireSession {
  const s: WireSession = {
    sessionId: String(item.sessionId),
    userId,
    pieceId: String(item.pieceId),
    startedAt: String(item.startedAt),
    createdAt: String(item.createdAt),
  };
  if (item.endedAt) s.endedAt = String(item.endedAt);
  return s;
}

const later = (a?: string, b?: string) => (!a ? b : !b ? a : Date.parse(a) >= Date.parse(b) ? a : b);

async function pushGroup(store: Store, userId: string, group: SessionInput[]) {
  return readPlanCommit(store, userId, "sessions", group.map((s) => s.sessionId), (existing) => {
    const writes = group.flatMap((s) => {
      const cur = existing.get(s.sessionId);
      if (!cur) {
        const item: Record<string, unknown> = {
          sessionId: s.sessionId,
          pieceId: s.pieceId,
          startedAt: s.startedAt,
          createdAt: s.createdAt,
        };
        if (s.endedAt) item.endedAt = s.endedAt;
        return [{ table: "sessions" as const, item }];
      }
      // Known session: only a (later) end time changes it; a retry changes nothing.
      const endedAt = later(cur.endedAt, s.endedAt);
      if (endedAt === cur.endedAt) return [];
      const { seq, changedAt, [CHANGE_KEY]: ck, userId: _u, ...rest } = cur;
      return [{ table: "sessions" as const, item: { ...rest, endedAt }, expectedChangeKey: String(ck) }];
    });
    return { writes, finish: () => writes.length };
  });
}

export async function syncSessions(
  store: Store,
  userId: string,
  req: SessionsRequest,
  opts: SyncOptions = {},
): Promise<{ response: SessionsResponse; stats: SessionsStats }> {
  // A cursor this server did not issue is a 400 before anything is pushed, not after.
  if (req.protocol === 2 && req.cursor) decodeCursor(req.cursor);
  let written = 0;
  for (const group of groupForTransactions(req.sessions, (s) => escapedSize(s) + 200)) {
    written += await pushGroup(store, userId, group);
  }
  const uploaded = req.sessions.map((s) => s.sessionId);
  const state = await store.ensureSyncState(userId);
  const budget = (opts.responseBudgetBytes ?? RESPONSE_BUDGET_BYTES) - escapedSize(uploaded) - 4096;

  if (req.protocol === 2) {
    const page = await pullChanges<WireSession>({
      store,
      kind: "sessions",
      userId,
      state,
      start: req.cursor ? { kind: "after-key", key: decodeCursor(req.cursor) } : { kind: "all" },
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
        cursor: page.lastKey ? encodeCursor(page.lastKey) : req.cursor,
        hasMore: page.more,
      },
      stats: { pushed: req.sessions.length, written, pulled: page.items.length, more: page.more },
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
    stats: { pushed: req.sessions.length, written, pulled: serverSessions.length, more },
  };
}
