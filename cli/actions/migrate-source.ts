// `haumana-ops migrate`, the old backend's side: reads its two tables (paged,
// parallel Scans, throttling retried), resolves the owners of items written under a
// Cognito sub to the Google sub every other item (and the new backend) uses, and
// turns each user's items into the requests a sync takes, validated the way a sync
// validates them. Nothing here writes. Layout of the old items: lib/old-backend.ts.
import { ListUsersCommand } from "@aws-sdk/client-cognito-identity-provider";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand, ScanCommandOutput } from "@aws-sdk/lib-dynamodb";
import type { Store } from "../../functions/core/store";
import { parsePiecesRequest, parseSessionsRequest, PieceInput, Refused, SessionInput } from "../../functions/core/validation";
import { cognitoUsername } from "../../lib/google";
import { parseSessionSortKey, userOfSessionKey, OLD_PIECES_TABLE } from "../../lib/old-backend";
import { send, Sender } from "../aws";

/** Items of an old table, as stored (numbers beyond 2^53 kept as their digits, so they are refused, not rounded). */
export type OldItem = Record<string, any>;

/** Parallel Scan segments per table. */
const SCAN_SEGMENTS = 4;

/**
 * Every item of `table`: a Scan in parallel segments, each paged to its end,
 * strongly consistent, each page retried by the store's rules (throttling, 5xx,
 * dropped connections). `onPage` gets the running count.
 */
export async function scanTable(client: DynamoDBClient, retry: Store, table: string, onPage?: (count: number) => void): Promise<OldItem[]> {
  const doc = DynamoDBDocumentClient.from(client, {
    unmarshallOptions: { wrapNumbers: (digits: string) => (Number.isSafeInteger(Number(digits)) || !/^-?\d+$/.test(digits) ? Number(digits) : digits) },
  });
  const out: OldItem[] = [];
  await Promise.all(
    Array.from({ length: SCAN_SEGMENTS }, async (_, segment) => {
      let start: Record<string, any> | undefined;
      do {
        const page: ScanCommandOutput = await retry.withRetry("read", () =>
          doc.send(new ScanCommand({ TableName: table, Segment: segment, TotalSegments: SCAN_SEGMENTS, ConsistentRead: true, ExclusiveStartKey: start })),
        );
        out.push(...((page.Items ?? []) as OldItem[]));
        onPage?.(out.length);
        start = page.LastEvaluatedKey;
      } while (start);
    }),
  );
  return out;
}

// ---- owners -------------------------------------------------------------

const COGNITO_SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const GOOGLE_USERNAME = new RegExp(`^${cognitoUsername("(.+)")}$`, "i");

/**
 * Whether an old item's owner is a Cognito sub (a UUID; items written 2025-06-16..22)
 * rather than a Google sub (digits), which is what the new backend keys users by.
 */
export function isCognitoSub(owner: string): boolean {
  return COGNITO_SUB.test(owner);
}

export interface ResolvedOwner {
  cognitoSub: string;
  userId: string;
  userPool: string;
}

export interface UnresolvedOwner {
  owner: string;
  reason: string;
}

/**
 * The Google sub behind each Cognito sub: the user whose `sub` it is in one of
 * `pools` (searched in order; ListUsers with the filter `sub = "…"`), named
 * google_<Google sub> by the old auth-sync.
 */
export async function resolveOwners(
  cognito: Sender | undefined,
  pools: string[],
  cognitoSubs: string[],
): Promise<{ resolved: ResolvedOwner[]; unresolved: UnresolvedOwner[] }> {
  const resolved: ResolvedOwner[] = [];
  const unresolved: UnresolvedOwner[] = [];
  for (const sub of cognitoSubs) {
    if (!cognito || pools.length === 0) {
      unresolved.push({ owner: sub, reason: "a Cognito sub, and no --user-pool was given to resolve it" });
      continue;
    }
    let found: { pool: string; username: string } | undefined;
    for (const pool of pools) {
      const r = await send<{ Users?: { Username?: string }[] }>(
        cognito,
        new ListUsersCommand({ UserPoolId: pool, Filter: `sub = "${sub.replace(/["\\]/g, "")}"`, Limit: 1 }),
      );
      const username = r.Users?.[0]?.Username;
      if (username) {
        found = { pool, username };
        break;
      }
    }
    const googleSub = found && GOOGLE_USERNAME.exec(found.username)?.[1];
    if (found && googleSub) resolved.push({ cognitoSub: sub, userId: googleSub, userPool: found.pool });
    else if (found) unresolved.push({ owner: sub, reason: `its user in ${found.pool} is ${found.username}, not a Google sign-in (${cognitoUsername("<Google sub>")})` });
    else unresolved.push({ owner: sub, reason: `no user has this sub in ${pools.join(", ")}` });
  }
  return { resolved, unresolved };
}

// ---- items into sync requests -------------------------------------------------

/** A piece or session the migration does not copy, and why (a sync's own refusal codes). */
export interface RefusedItem {
  userId: string;
  kind: "piece" | "session";
  /** Its id, when it has a readable one. */
  id?: string;
  code: Refused["code"];
  message: string;
}

/** What the migration copies for one user (keyed by Google sub). */
export interface UserData {
  userId: string;
  /** The old owners whose items these are (the Google sub, and any Cognito sub resolved to it). */
  owners: string[];
  /** The pieces as a sync takes them, one per piece id: the latest copy when owners held several. */
  pieces: PieceInput[];
  /** The sessions as a sync takes them, one per session id, with the latest end time of its copies. */
  sessions: SessionInput[];
  refused: RefusedItem[];
  /** Older copies of a piece another owner of this user also held (the latest was taken). */
  supersededPieces: string[];
  /** Session copies beyond the first (merged into it). */
  duplicateSessions: number;
}

const OPTIONAL_STRINGS = ["language", "englishTranslation", "author", "sourceUrl", "notes"];
const time = (v: unknown) => (typeof v === "string" ? Date.parse(v) : NaN);
const latest = (...ts: number[]) => Math.max(...ts.map((t) => (Number.isNaN(t) ? -Infinity : t)));

/** An old piece item as the app would send it: its own fields, empty optional ones left out, never marked modified. */
function pieceBody(item: OldItem): Record<string, unknown> {
  const { userId: _u, lastSyncedAt: _l, locallyModified: _m, ...rest } = item;
  for (const k of OPTIONAL_STRINGS) if (rest[k] === null || rest[k] === "") delete rest[k];
  return { ...rest, locallyModified: false };
}

/** An old session item as the app would send it, its id and start taken from the sort key when the item lacks them. */
function sessionBody(item: OldItem): Record<string, unknown> {
  const fromKey = parseSessionSortKey(item.sk);
  const startedAt = item.startedAt ?? fromKey?.startedAt;
  const out: Record<string, unknown> = {
    sessionId: item.sessionId ?? fromKey?.sessionId,
    pieceId: item.pieceId,
    startedAt,
    // The app sends createdAt equal to startedAt.
    createdAt: item.createdAt ?? startedAt,
  };
  if (item.endedAt !== undefined && item.endedAt !== null && item.endedAt !== "") out.endedAt = item.endedAt;
  return out;
}

const upper = (v: unknown) => (typeof v === "string" ? v.toUpperCase() : undefined);

/**
 * Groups the old items by user (Google sub), through `owners` (old owner → user;
 * owners absent from it are not copied: the caller reports them), and validates
 * each user's pieces and sessions as a sync request would be validated. A session
 * item whose pk names no user is `unowned`.
 */
export function buildUsers(
  pieceItems: OldItem[],
  sessionItems: OldItem[],
  owners: Map<string, string>,
): { users: Map<string, UserData>; unowned: RefusedItem[] } {
  const unowned: RefusedItem[] = [];
  const raw = new Map<string, { owners: Set<string>; pieces: Map<string, OldItem[]>; sessions: Map<string, OldItem[]>; badSessions: OldItem[] }>();
  const userOf = (owner: string) => {
    const userId = owners.get(owner)!;
    let u = raw.get(userId);
    if (!u) raw.set(userId, (u = { owners: new Set(), pieces: new Map(), sessions: new Map(), badSessions: [] }));
    u.owners.add(owner);
    return u;
  };
  for (const item of pieceItems) {
    const owner = item[OLD_PIECES_TABLE.hashKey];
    if (!owners.has(owner)) continue;
    const id = upper(item.pieceId) ?? "";
    const u = userOf(owner);
    u.pieces.set(id, [...(u.pieces.get(id) ?? []), item]);
  }
  for (const item of sessionItems) {
    const owner = userOfSessionKey(item.pk);
    if (owner === undefined) {
      const id = upper(item.sessionId ?? parseSessionSortKey(item.sk)?.sessionId);
      unowned.push({ userId: "(none)", kind: "session", ...(id ? { id } : {}), code: "invalid_session", message: `pk ${JSON.stringify(item.pk)} is not USER#<sub>` });
      continue;
    }
    if (!owners.has(owner)) continue;
    const u = userOf(owner);
    const id = upper(item.sessionId ?? parseSessionSortKey(item.sk)?.sessionId);
    if (!id) u.badSessions.push(item);
    else u.sessions.set(id, [...(u.sessions.get(id) ?? []), item]);
  }

  const users = new Map<string, UserData>();
  for (const [userId, u] of raw) {
    const supersededPieces: string[] = [];
    // Several owners held the piece: the copy the old server wrote last (lastSyncedAt is its write time).
    const chosen = [...u.pieces.values()].map((copies) => {
      const sorted = [...copies].sort((a, b) => latest(time(b.lastSyncedAt), time(b.modifiedAt)) - latest(time(a.lastSyncedAt), time(a.modifiedAt)));
      for (const older of sorted.slice(1)) supersededPieces.push(String(older.pieceId));
      return sorted[0];
    });
    const pieces = parsePiecesRequest({ operation: "sync", pieces: chosen.map(pieceBody) });
    let duplicateSessions = 0;
    const sessionBodies = [...u.sessions.values()].map((copies) => {
      duplicateSessions += copies.length - 1;
      const body = sessionBody(copies[0]);
      // A later end time is kept, as a sync keeps it.
      const ends = copies.map((c) => sessionBody(c).endedAt).filter((e): e is string => typeof e === "string" && !Number.isNaN(Date.parse(e)));
      if (ends.length) body.endedAt = ends.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a));
      return body;
    });
    const sessions = parseSessionsRequest({ sessions: [...sessionBodies, ...u.badSessions.map(sessionBody)] });
    // A refusal names the field by its place in the request ("pieces.3.category"); here the item's own name is what helps.
    const field = (m: string) => m.replace(/^(pieces|sessions)\.\d+\.?/, "") || m;
    const refused: RefusedItem[] = [
      ...pieces.refused.map((r) => ({ userId, kind: "piece" as const, id: r.id, code: r.code, message: field(r.message) })),
      ...sessions.refused.map((r) => ({ userId, kind: "session" as const, id: r.id, code: r.code, message: field(r.message) })),
    ];
    users.set(userId, {
      userId,
      owners: [...u.owners],
      pieces: pieces.pieces,
      sessions: sessions.sessions,
      refused,
      supersededPieces,
      duplicateSessions,
    });
  }
  return { users, unowned };
}
