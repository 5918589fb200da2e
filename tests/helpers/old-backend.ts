// The old backend's tables (lib/old-backend.ts) on DynamoDB Local, and a generated
// dataset with every quirk the contract lists for their items
// (../shared/ios-sync-contract.md, "The live deployment"): versions that went down
// or jumped, whole-second dates before 2025-06-30 and millisecond server times
// after, locallyModified stored true, sessions keyed USER#/SESSION#, endedAt often
// missing, items written 2025-06-16..22 under a Cognito sub, empty optional fields.
// Deterministic for a seed.
import { BatchWriteItemCommand, CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { randomBytes } from "node:crypto";
import { OLD_PIECES_TABLE, OLD_SESSIONS_TABLE, oldCreateTableInput, oldSessionKey } from "../../lib/old-backend";

export type OldItem = Record<string, any>;

export interface OldTables {
  pieces: string;
  sessions: string;
  drop(): Promise<void>;
}

export async function createOldTables(client: DynamoDBClient, label = "old"): Promise<OldTables> {
  const suffix = `${label}-${randomBytes(4).toString("hex")}`;
  const pieces = `old-pieces-${suffix}`;
  const sessions = `old-sessions-${suffix}`;
  await client.send(new CreateTableCommand(oldCreateTableInput(OLD_PIECES_TABLE, pieces)));
  await client.send(new CreateTableCommand(oldCreateTableInput(OLD_SESSIONS_TABLE, sessions)));
  return {
    pieces,
    sessions,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: pieces })).catch(() => undefined);
      await client.send(new DeleteTableCommand({ TableName: sessions })).catch(() => undefined);
    },
  };
}

/** Writes items with BatchWriteItem, 25 at a time, resending what comes back unprocessed. */
export async function putAll(client: DynamoDBClient, table: string, items: OldItem[]): Promise<void> {
  const batches: OldItem[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < batches.length) {
        let requests: any[] = batches[next++].map((it) => ({ PutRequest: { Item: marshall(it, { removeUndefinedValues: true }) } }));
        for (let attempt = 0; requests.length; attempt++) {
          if (attempt > 20) throw new Error("putAll: items stayed unprocessed");
          const r = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          requests = r.UnprocessedItems?.[table] ?? [];
          if (requests.length) await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
        }
      }
    }),
  );
}

/** mulberry32: a small seeded generator, so a dataset is the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuidFrom(r: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

export const googleSub = (r: () => number) => `1${Array.from({ length: 20 }, () => Math.floor(r() * 10)).join("")}`;

const DAY = 86400_000;
/** The old server began writing its own time with milliseconds as modifiedAt on this day. */
export const MS_DATES_SINCE = Date.parse("2025-06-30T00:00:00Z");
const COGNITO_WEEK = [Date.parse("2025-06-16T00:00:00Z"), Date.parse("2025-06-22T23:00:00Z")] as const;

const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
const withMs = (ms: number) => new Date(ms).toISOString();

export interface VersionQuirk {
  kind: "small" | "went-down" | "jumped" | "step" | "big-step";
  stored: number;
  /** A version a device may still hold from before (for "went-down": higher than the stored one). */
  heldBefore?: number;
}

function versionQuirk(r: () => number): VersionQuirk {
  const x = r();
  if (x < 0.55) return { kind: "small", stored: 1 + Math.floor(r() * 60) };
  if (x < 0.7) return { kind: "went-down", stored: 2 + Math.floor(r() * 3), heldBefore: 800 + Math.floor(r() * 200) };
  if (x < 0.82) return { kind: "jumped", stored: 5_000_000 + Math.floor(r() * 1000) };
  if (x < 0.88) return { kind: "step", stored: 2 ** 20 };
  return { kind: "big-step", stored: 3 * 2 ** 21 + 7 };
}

const WORDS = ["aloha", "mele", "oli", "pua", "lani", "kai", "mauna", "ua", "makani", "ʻāina", "hula", "nani", "wai", "ahi", "kalo"];
function text(r: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" ");
}

export interface GenPiece {
  item: OldItem;
  quirk: VersionQuirk;
}

/** An old piece item as the old server stored it, written at `writtenMs`. */
export function oldPiece(r: () => number, owner: string, writtenMs: number, pieceId = uuidFrom(r)): GenPiece {
  const quirk = versionQuirk(r);
  const before = writtenMs < MS_DATES_SINCE;
  const editMs = writtenMs - Math.floor(r() * 5000);
  const item: OldItem = {
    userId: owner,
    pieceId,
    title: `Mele ${text(r, 2)}`,
    category: r() < 0.5 ? "oli" : "mele",
    lyrics: text(r, 20 + Math.floor(r() * 40)),
    includeInPractice: r() < 0.8,
    isFavorite: r() < 0.25,
    createdAt: wholeSecond(editMs - Math.floor(r() * 30 * DAY)),
    // The client's whole-second edit time before 2025-06-30, the server's time with ms after.
    modifiedAt: before ? wholeSecond(editMs) : withMs(writtenMs),
    lastSyncedAt: withMs(writtenMs),
    version: quirk.stored,
    // Older items were stored with the flag the device sent.
    locallyModified: before ? true : r() < 0.1,
  };
  const lang = r();
  if (lang < 0.6) item.language = "haw";
  else if (lang < 0.75) item.language = "eng";
  else if (lang < 0.8) item.language = "";
  // else: absent (read as haw)
  if (r() < 0.4) item.englishTranslation = text(r, 8);
  if (r() < 0.3) item.author = `Author ${text(r, 1)}`;
  if (r() < 0.1) item.sourceUrl = "https://example.com/mele";
  if (r() < 0.3) item.notes = r() < 0.2 ? "" : text(r, 5);
  return { item, quirk };
}

export function oldSession(r: () => number, owner: string, pieceId: string, startMs: number, sessionId = uuidFrom(r)): OldItem {
  const startedAt = wholeSecond(startMs);
  const item: OldItem = {
    ...oldSessionKey(owner, startedAt, sessionId),
    sessionId,
    userId: owner,
    pieceId,
    startedAt,
    createdAt: startedAt,
    syncedAt: withMs(startMs + 2000),
  };
  if (r() < 0.4) item.endedAt = wholeSecond(startMs + (60 + Math.floor(r() * 1800)) * 1000);
  return item;
}

export interface GenUser {
  userId: string;
  /** The Cognito sub some of its items carry (2025-06-16..22), if any. */
  cognitoSub?: string;
  pieces: GenPiece[];
  sessions: OldItem[];
}

export interface OldDataset {
  users: GenUser[];
  pieces: OldItem[];
  sessions: OldItem[];
  /** Items under a Cognito sub no pool knows. */
  unresolved?: { sub: string; pieces: OldItem[]; sessions: OldItem[] };
  /** A piece the old server stored that a sync would refuse (category not oli/mele). */
  invalid?: { userId: string; pieceId: string };
  /** A piece held under both a user's Cognito sub (older copy) and Google sub (the copy written last). */
  duplicate?: { userId: string; pieceId: string; latestTitle: string };
}

export interface GenerateOptions {
  seed: number;
  users: number;
  piecesPerUser: [number, number];
  sessionsPerUser: [number, number];
  /** Users some of whose items carry their Cognito sub: Google sub → Cognito sub. */
  cognito?: { userId: string; cognitoSub: string }[];
  /** A Cognito sub with items that no pool resolves. */
  unresolvedSub?: string;
  invalidPiece?: boolean;
}

/** A dataset of the old backend. Users named in `cognito` come first, with their ids. */
export function generateOldBackend(o: GenerateOptions): OldDataset {
  const r = rng(o.seed);
  const span = (range: [number, number]) => range[0] + Math.floor(r() * (range[1] - range[0] + 1));
  const users: GenUser[] = [];
  const start = Date.parse("2025-05-01T00:00:00Z");
  const end = Date.parse("2025-10-15T00:00:00Z");
  for (let u = 0; u < o.users; u++) {
    const cog = o.cognito?.[u];
    const userId = cog?.userId ?? googleSub(r);
    const user: GenUser = { userId, cognitoSub: cog?.cognitoSub, pieces: [], sessions: [] };
    const np = span(o.piecesPerUser);
    for (let i = 0; i < np; i++) {
      const underCognito = cog && i % 5 === 0;
      const written = underCognito
        ? COGNITO_WEEK[0] + Math.floor(r() * (COGNITO_WEEK[1] - COGNITO_WEEK[0]))
        : start + Math.floor(r() * (end - start));
      user.pieces.push(oldPiece(r, underCognito ? cog!.cognitoSub : userId, written));
    }
    const ns = span(o.sessionsPerUser);
    for (let i = 0; i < ns; i++) {
      const underCognito = cog && i % 4 === 0;
      const startMs = underCognito
        ? COGNITO_WEEK[0] + Math.floor(r() * (COGNITO_WEEK[1] - COGNITO_WEEK[0]))
        : start + Math.floor(r() * (end - start));
      // Most sessions name a piece of the user; some a piece the server never had.
      const pieceId = r() < 0.9 && user.pieces.length ? user.pieces[Math.floor(r() * user.pieces.length)].item.pieceId : uuidFrom(r);
      user.sessions.push(oldSession(r, underCognito ? cog!.cognitoSub : userId, pieceId, startMs));
    }
    users.push(user);
  }
  const ds: OldDataset = {
    users,
    pieces: users.flatMap((u) => u.pieces.map((p) => p.item)),
    sessions: users.flatMap((u) => u.sessions),
  };
  // The first Cognito user also holds one piece under both owners: the Google-sub copy was written last.
  const cog = users.find((u) => u.cognitoSub);
  if (cog) {
    const later = cog.pieces.find((p) => p.item.userId === cog.userId)!;
    const older: OldItem = {
      ...later.item,
      userId: cog.cognitoSub!,
      title: "the older copy under the Cognito sub",
      lastSyncedAt: withMs(COGNITO_WEEK[0] + DAY),
      modifiedAt: wholeSecond(COGNITO_WEEK[0] + DAY),
    };
    ds.pieces.push(older);
    ds.duplicate = { userId: cog.userId, pieceId: later.item.pieceId, latestTitle: later.item.title };
  }
  if (o.unresolvedSub) {
    const sub = o.unresolvedSub;
    const pieces = Array.from({ length: 5 }, () => oldPiece(r, sub, COGNITO_WEEK[0] + Math.floor(r() * DAY)).item);
    const sessions = pieces.slice(0, 3).map((p) => oldSession(r, sub, p.pieceId, COGNITO_WEEK[0] + Math.floor(r() * DAY)));
    ds.unresolved = { sub, pieces, sessions };
    ds.pieces.push(...pieces);
    ds.sessions.push(...sessions);
  }
  if (o.invalidPiece) {
    const u = users[users.length - 1];
    const bad = oldPiece(r, u.userId, Date.parse("2025-08-01T10:00:00Z")).item;
    bad.category = "hula";
    ds.pieces.push(bad);
    ds.invalid = { userId: u.userId, pieceId: bad.pieceId };
  }
  return ds;
}
