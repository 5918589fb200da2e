// Deleting a user's data (DELETE /users/{userId}, `haumana-ops user delete`): every
// piece, tombstone, session and the sync state of the user, in an order that a
// retry after a failure at any point completes. Kept out of store.ts so that only
// what deletes accounts carries (and is granted) the bulk delete.
//
// 1. The deletion record is written and the sync state marked: from then on no sync
//    takes back the repertoire of before the deletion from a device that still holds
//    it (ofDeletedAccount in pieces.ts), and a sync committing at that moment fails
//    its condition on the counter and decides again under the mark.
// 2. Every piece, tombstone and session is deleted.
// 3. The sync state is deleted. The deletion record, outside the user's partition and
//    holding only the time (Store's deletionRecordKey), stays: a device still signed in
//    keeps its copy but never uploads it again, and the same Google account starts
//    over with what it creates after the deletion.
import { BatchWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../../lib/tables";
import { StoreUnavailableError } from "./errors";
import { userItems } from "./export";
import { deletionRecordKey, isConditionFailure, Store, TableKind } from "./store";

export interface DeletedCounts {
  pieces: number;
  sessions: number;
  deletedAt: string;
}

export async function deleteAccountData(store: Store, userId: string): Promise<DeletedCounts> {
  const deletedAt = await markAccountDeleted(store, userId);
  const counts: Record<TableKind, number> = { pieces: 0, sessions: 0 };
  for (const kind of ["pieces", "sessions"] as const) {
    const schema = kind === "pieces" ? PIECES_TABLE : SESSIONS_TABLE;
    for await (const keys of userItems(store, kind, userId, [schema.hashKey, schema.rangeKey])) {
      await deleteKeys(store, kind, keys);
      counts[kind] += keys.length;
    }
  }
  await deleteKeys(store, "pieces", [{ [PIECES_TABLE.hashKey]: userId, [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY }]);
  return { ...counts, deletedAt };
}

/**
 * Step 1, safe to repeat: writes the deletion record (its first time stays), then
 * marks the sync state (if any) with it and advances its counter. Returns the time.
 */
export async function markAccountDeleted(store: Store, userId: string): Promise<string> {
  const at = new Date(store.now()).toISOString();
  const rec = await store.withRetry("write", () =>
    store.doc.send(
      new UpdateCommand({
        TableName: store.tableName("pieces"),
        Key: deletionRecordKey(userId),
        UpdateExpression: "SET deletedAt = if_not_exists(deletedAt, :at)",
        ExpressionAttributeValues: { ":at": at },
        ReturnValues: "ALL_NEW",
      }),
    ),
  );
  const deletedAt = String(rec.Attributes?.deletedAt ?? at);
  try {
    await store.withRetry("write", () =>
      store.doc.send(
        new UpdateCommand({
          TableName: store.tableName("pieces"),
          Key: { [PIECES_TABLE.hashKey]: userId, [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY },
          UpdateExpression: "SET seq = seq + :one, accountDeletedAt = :at",
          ConditionExpression: "attribute_exists(seq)",
          ExpressionAttributeValues: { ":one": 1, ":at": deletedAt },
        }),
      ),
    );
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
  }
  return deletedAt;
}

/** Deletes items by key, 25 a batch, sending unprocessed ones again. */
async function deleteKeys(store: Store, kind: TableKind, keys: Record<string, any>[]): Promise<void> {
  const table = store.tableName(kind);
  for (let i = 0; i < keys.length; i += 25) {
    let requests: any[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= 8 || (attempt > 0 && !(await store.backoff(attempt)))) {
        throw new StoreUnavailableError("write_failed", "The account could not be deleted completely right now; please try again.", "UnprocessedItems");
      }
      const r = await store.withRetry("write", () => store.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } })));
      requests = (r.UnprocessedItems?.[table] as any[]) ?? [];
    }
  }
}
