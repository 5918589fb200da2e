// The old backend's tables (the CDK stack `HaumanaStack`, ../shared/ios-sync-contract.md,
// "The live deployment"): their key schemas, indexes and item layout. The one
// definition `haumana-ops migrate` reads them by and the tests create them from.
//
// haumana-pieces    userId (S) / pieceId (S), GSI userId-modifiedAt-index. One item
//                   per piece: the piece as a device last sent it, userId set to the
//                   token's sub (a Cognito sub for items written 2025-06-16..22),
//                   version = the sent version + 1 (never checked: it went down and
//                   jumped), modifiedAt the client's whole-second time before
//                   2025-06-30 and server time with milliseconds after,
//                   lastSyncedAt = server time of the write, locallyModified often true.
// haumana-sessions  pk (S) = "USER#<sub>" / sk (S) = "SESSION#<startedAt as sent>#<sessionId>",
//                   GSI pieceId-startedAt-index (unused). The session as sent plus
//                   syncedAt; endedAt often absent.

export interface OldTableSchema {
  hashKey: string;
  rangeKey: string;
  /** Its global secondary index: name and keys (projection ALL). */
  gsi: { name: string; hashKey: string; rangeKey: string };
}

export const OLD_PIECES_TABLE: OldTableSchema = {
  hashKey: "userId",
  rangeKey: "pieceId",
  gsi: { name: "userId-modifiedAt-index", hashKey: "userId", rangeKey: "modifiedAt" },
};

export const OLD_SESSIONS_TABLE: OldTableSchema = {
  hashKey: "pk",
  rangeKey: "sk",
  gsi: { name: "pieceId-startedAt-index", hashKey: "pieceId", rangeKey: "startedAt" },
};

const USER_PREFIX = "USER#";
const SESSION_PREFIX = "SESSION#";

/** The keys of an old session item. */
export function oldSessionKey(userId: string, startedAt: string, sessionId: string): { pk: string; sk: string } {
  return { pk: `${USER_PREFIX}${userId}`, sk: `${SESSION_PREFIX}${startedAt}#${sessionId}` };
}

/** The user of an old session item's pk, or undefined when it is not "USER#<sub>". */
export function userOfSessionKey(pk: unknown): string | undefined {
  return typeof pk === "string" && pk.startsWith(USER_PREFIX) && pk.length > USER_PREFIX.length ? pk.slice(USER_PREFIX.length) : undefined;
}

/** startedAt and sessionId of an old session item's sk ("SESSION#<startedAt>#<sessionId>"). */
export function parseSessionSortKey(sk: unknown): { startedAt: string; sessionId: string } | undefined {
  if (typeof sk !== "string" || !sk.startsWith(SESSION_PREFIX)) return undefined;
  const rest = sk.slice(SESSION_PREFIX.length);
  const i = rest.lastIndexOf("#");
  if (i <= 0 || i === rest.length - 1) return undefined;
  return { startedAt: rest.slice(0, i), sessionId: rest.slice(i + 1) };
}

/** The CreateTable request of an old table as the CDK stack made it (for the tests and rehearsals). */
export function oldCreateTableInput(t: OldTableSchema, tableName: string) {
  const names = [...new Set([t.hashKey, t.rangeKey, t.gsi.hashKey, t.gsi.rangeKey])];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: names.map((AttributeName) => ({ AttributeName, AttributeType: "S" as const })),
    KeySchema: [
      { AttributeName: t.hashKey, KeyType: "HASH" as const },
      { AttributeName: t.rangeKey, KeyType: "RANGE" as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: t.gsi.name,
        KeySchema: [
          { AttributeName: t.gsi.hashKey, KeyType: "HASH" as const },
          { AttributeName: t.gsi.rangeKey, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "ALL" as const },
      },
    ],
  };
}
