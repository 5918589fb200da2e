// Deleting a user's data (DELETE /users/{userId}, `haumana-ops user delete`): every
// piece, tombstone, session and the sync state of the user, in an order that a
// retry after a failure at any point completes.
//
// 1. The deletion record is written and the sync state marked (Store.markAccountDeleted):
//    from then on no sync takes back the repertoire of before the deletion from a
//    device that still holds it (ofDeletedAccount in pieces.ts), and a sync committing
//    at that moment fails its condition and decides again under the mark.
// 2. Every piece, tombstone and session is deleted.
// 3. The sync state is deleted. The deletion record, outside the user's partition and
//    holding only the time, stays: a device still signed in keeps its copy but never
//    uploads it again, and the same Google account starts over with what it creates
//    after the deletion.
import { Store, TableKind } from "./store";

export interface DeletedCounts {
  pieces: number;
  sessions: number;
  deletedAt: string;
}

export async function deleteAccountData(store: Store, userId: string): Promise<DeletedCounts> {
  const deletedAt = await store.markAccountDeleted(userId);
  const counts: Record<TableKind, number> = { pieces: 0, sessions: 0 };
  for (const kind of ["pieces", "sessions"] as const) {
    for await (const keys of store.userItemKeys(kind, userId)) {
      await store.deleteKeys(kind, keys);
      counts[kind] += keys.length;
    }
  }
  await store.deleteSyncState(userId);
  return { ...counts, deletedAt };
}
