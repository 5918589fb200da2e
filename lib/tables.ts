// Table schemas and key layout. The one definition that the Pulumi program deploys,
// the local server creates on DynamoDB Local, and the tests build on.
//
// Pieces table   userId (S) / pieceId (S)  one item per piece, plus the user's sync
//                                          state (change counter and repertoire
//                                          digest) at pieceId = SYNC_STATE_KEY
// Sessions table userId (S) / sessionId (S)
// Both have a local secondary index `byChange` on changeKey (S), keys only: every write of a
// piece or session takes the next number of the user's change sequence in the
// same transaction, and changeKey = "<server time ISO>|<seq, 12 digits>", so an
// incremental pull is one strongly consistent Query on the index. An LSI (not a
// GSI) because only an LSI can be read with ConsistentRead.
//
// The pieces table has a second keys-only LSI, `byBucket`, on bucketKey (S) =
// "<bucket, 2 hex>|<entry hash, 16 hex>" of every live piece (tombstones have none):
// a v1 device lists every piece it holds, and comparing that list with the server
// bucket by bucket (functions/core/digest.ts) reads only the buckets that differ.

export interface IndexSchema {
  name: string;
  rangeKey: string;
  projection: "KEYS_ONLY";
}

export interface TableSchema {
  /** Logical name, used in resource names. */
  key: "pieces" | "sessions";
  hashKey: string;
  rangeKey: string;
  changeIndex: IndexSchema;
  /** Every local secondary index of the table, the change index first. */
  indexes: IndexSchema[];
  /** DynamoDB TTL attribute (tombstones expire through it). */
  ttlAttribute: string;
}

export const CHANGE_INDEX = "byChange";
export const CHANGE_KEY = "changeKey";
export const BUCKET_INDEX = "byBucket";
export const BUCKET_KEY = "bucketKey";
export const TTL_ATTRIBUTE = "expiresAt";
/**
 * The change index holds keys only: an edit rewrites a small index entry instead of
 * a second copy of the piece (writes cost 5 times reads), and a pull, which reads
 * only what changed, fetches those items from the table (an LSI allows that, with
 * the same consistent read).
 */
export const CHANGE_INDEX_PROJECTION = "KEYS_ONLY" as const;
/** Range key of the per-user sync counter item in the pieces table. */
export const SYNC_STATE_KEY = "#sync";

const changeIndex: IndexSchema = { name: CHANGE_INDEX, rangeKey: CHANGE_KEY, projection: CHANGE_INDEX_PROJECTION };
const bucketIndex: IndexSchema = { name: BUCKET_INDEX, rangeKey: BUCKET_KEY, projection: "KEYS_ONLY" };

export const PIECES_TABLE: TableSchema = {
  key: "pieces",
  hashKey: "userId",
  rangeKey: "pieceId",
  changeIndex,
  indexes: [changeIndex, bucketIndex],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const SESSIONS_TABLE: TableSchema = {
  key: "sessions",
  hashKey: "userId",
  rangeKey: "sessionId",
  changeIndex,
  indexes: [changeIndex],
  ttlAttribute: TTL_ATTRIBUTE,
};

export const TABLES = [PIECES_TABLE, SESSIONS_TABLE] as const;

/** Attribute definitions: every key attribute is a string. */
export function attributeDefinitions(t: TableSchema): { name: string; type: "S" }[] {
  return [t.hashKey, t.rangeKey, ...t.indexes.map((i) => i.rangeKey)].map((name) => ({ name, type: "S" as const }));
}

/** The CreateTable request for a schema, for DynamoDB Local and tests. */
export function createTableInput(t: TableSchema, tableName: string) {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: attributeDefinitions(t).map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: [
      { AttributeName: t.hashKey, KeyType: "HASH" as const },
      { AttributeName: t.rangeKey, KeyType: "RANGE" as const },
    ],
    LocalSecondaryIndexes: t.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: t.hashKey, KeyType: "HASH" as const },
        { AttributeName: i.rangeKey, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: i.projection },
    })),
  };
}
