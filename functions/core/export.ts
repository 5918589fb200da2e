// A user's data as one JSON document (GET /users/{userId}/export, `haumana-ops user
// export`): every piece as the sync API sends it (toWire) and every practice session
// (toWireSession), with when it was made and a format version. Nothing internal (no
// change keys, sequence numbers, field history, digest buckets or expiry times), no
// tombstones (they are not pieces), no sync state, no other user's items: it reads
// only the user's partition of each table. Also the counts `user show` and `user
// delete` print.
//
// It reads through an ExportSource, not the sync's Store: the export function's
// bundle then holds no code that writes (infra/permissions.ts grants what the files
// in a bundle can send), so its role gets Query and nothing else on the tables. A
// Store is an ExportSource (the CLI passes one); the Lambda passes a document
// client whose SDK retries cover throttling.
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { EXPORT_FORMAT_VERSION } from "../../lib/exports";
import { PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../../lib/tables";
import { toWire } from "./pieces";
import { toWireSession } from "./sessions";
import type { TableKind } from "./store";

/** What an export reads through (a Store is one). */
export interface ExportSource {
  doc: DynamoDBDocumentClient;
  tableName(kind: TableKind): string;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Retries of what DynamoDB says is transient (a Store's); without it, the SDK's own retries only. */
  withRetry?<T>(what: "read", op: () => Promise<T>): Promise<T>;
}

export interface ExportDocument {
  formatVersion: typeof EXPORT_FORMAT_VERSION;
  /** When the document was made, ISO with milliseconds. */
  exportedAt: string;
  userId: string;
  pieces: ReturnType<typeof toWire>[];
  sessions: ReturnType<typeof toWireSession>[];
}

export interface BuiltExport {
  /** The document as JSON text (built a page at a time: at 10,000 pieces it is about 36 MB). */
  json: string;
  exportedAt: string;
  pieces: number;
  sessions: number;
}

/**
 * Every item of the user in one table, a page (at most 1 MB) at a time, strongly
 * consistent: an export made right after a sync holds what that sync wrote. The
 * consistent read costs twice the units of an eventual one, well under a cent at
 * 10,000 pieces. `withSyncState`: keep the user's sync-state item too. Account
 * deletion and migrate's verification read the partition through this too.
 */
export async function* userItems(
  src: ExportSource,
  kind: TableKind,
  userId: string,
  projection?: string[],
  withSyncState = false,
): AsyncGenerator<Record<string, any>[]> {
  const schema = kind === "pieces" ? PIECES_TABLE : SESSIONS_TABLE;
  const names: Record<string, string> = { "#h": schema.hashKey };
  projection?.forEach((a, i) => (names[`#p${i}`] = a));
  let start: Record<string, any> | undefined;
  do {
    const query = () =>
      src.doc.send(
        new QueryCommand({
          TableName: src.tableName(kind),
          KeyConditionExpression: "#h = :h",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":h": userId },
          ...(projection ? { ProjectionExpression: projection.map((_, i) => `#p${i}`).join(", ") } : {}),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
    const r = src.withRetry ? await src.withRetry("read", query) : await query();
    const items = (r.Items ?? []).filter((i) => withSyncState || i[schema.rangeKey] !== SYNC_STATE_KEY);
    if (items.length) yield items;
    start = r.LastEvaluatedKey;
  } while (start);
}

/** The export document of `userId`, as JSON text. */
export async function buildExport(src: ExportSource, userId: string): Promise<BuiltExport> {
  const exportedAt = new Date(src.now()).toISOString();
  const head: Omit<ExportDocument, "pieces" | "sessions"> = { formatVersion: EXPORT_FORMAT_VERSION, exportedAt, userId };
  const parts: string[] = [JSON.stringify(head).slice(0, -1)];
  let pieces = 0;
  parts.push(',"pieces":[');
  for await (const page of userItems(src, "pieces", userId)) {
    for (const item of page) {
      if (item.deleted) continue;
      parts.push((pieces++ ? "," : "") + JSON.stringify(toWire(userId, item)));
    }
  }
  let sessions = 0;
  parts.push('],"sessions":[');
  for await (const page of userItems(src, "sessions", userId)) {
    for (const item of page) parts.push((sessions++ ? "," : "") + JSON.stringify(toWireSession(userId, item)));
  }
  parts.push("]}");
  return { json: parts.join(""), exportedAt, pieces, sessions };
}

export interface DataCounts {
  pieces: number;
  /** Pieces deleted on a device, kept as tombstones for the other devices (90 days). */
  tombstones: number;
  sessions: number;
  /** Whether the user has a sync state (change counter and digest). */
  syncState: boolean;
}

/** What the user has stored, read as keys (and the tombstone flag) only. */
export async function countUserData(src: ExportSource, userId: string): Promise<DataCounts> {
  const counts: DataCounts = { pieces: 0, tombstones: 0, sessions: 0, syncState: false };
  for await (const page of userItems(src, "pieces", userId, [PIECES_TABLE.rangeKey, "deleted"], true)) {
    for (const item of page) {
      if (item[PIECES_TABLE.rangeKey] === SYNC_STATE_KEY) counts.syncState = true;
      else if (item.deleted) counts.tombstones++;
      else counts.pieces++;
    }
  }
  for await (const page of userItems(src, "sessions", userId, [SESSIONS_TABLE.rangeKey])) counts.sessions += page.length;
  return counts;
}
