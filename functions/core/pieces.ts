// POST /pieces: push the device's edited pieces, then pull what changed since its
// cursor. Answers exactly in the shipped app's v1 shape (../shared/ios-sync-
// contract.md); protocol 2 (README, "Extensions") adds paging, deletes and a
// conflict report. Takes its Store (DynamoDB client, clock) as an argument so the
// Lambda, the local server, the tests and the bench run the same code.
import { MERGE_HISTORY_DEPTH, RESPONSE_BUDGET_BYTES, TOMBSTONE_RETENTION_DAYS } from "../../lib/limits";
import { TTL_ATTRIBUTE } from "../../lib/tables";
import { CONTENT_FIELDS, Content, ContentField, findBase, historyEntry, merge, pickContent, sameContent, sameField } from "./merge";
import { CommitStamp, PlannedWrite, Store } from "./store";
import {
  decodeCursor,
  encodeCursor,
  escapedSize,
  groupForTransactions,
  Plan,
  pullChanges,
  PullStart,
  readPlanCommit,
} from "./sync-engine";
import { DEFAULT_PAGE_LIMIT, PieceInput, PiecesRequest } from "./validation";

/** A piece as the app decodes it. */
export interface WirePiece extends Content {
  pieceId: string;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  version: number;
  locallyModified: boolean;
}

export interface Conflict {
  pieceId: string;
  /** merged: both sides kept something; server-kept: the device's edit lost; device-kept: it won. */
  resolution: "merged" | "server-kept" | "device-kept";
  strategy: "three-way" | "last-writer-wins" | "edit-beats-delete" | "delete-after-edit";
  /** Fields whose value from the device did not survive. */
  deviceFieldsLost: ContentField[];
  reason: string;
}

export interface PiecesResponse {
  serverPieces: WirePiece[];
  uploadedPieces: string[];
  updatedPieces: WirePiece[];
  syncedAt: string;
  // protocol 2 only
  cursor?: string;
  hasMore?: boolean;
  deletedPieces?: { pieceId: string; version: number; deletedAt: string }[];
  acceptedDeletes?: string[];
  conflicts?: Conflict[];
  cursorExpired?: boolean;
}

export interface PiecesStats {
  pushed: number;
  written: number;
  conflicts: number;
  pulled: number;
  more: boolean;
}

type Stored = Record<string, any>;

export function toWire(userId: string, item: Stored): WirePiece {
  return {
    ...pickContent(item as Content),
    pieceId: String(item.pieceId),
    userId,
    createdAt: String(item.createdAt),
    modifiedAt: String(item.modifiedAt),
    version: Number(item.version),
    locallyModified: false,
  } as WirePiece;
}

/**
 * A piece item at `meta.version`. `prev` is the item it replaces: its history of
 * field hashes carries on, and for each field it keeps the version and the edit
 * time of the field's last change; a field that changes now gets this version and
 * `meta.changedBy`, the edit time of the device whose value it takes.
 */
function pieceItem(
  pieceId: string,
  content: Content,
  meta: { createdAt: string; modifiedAt: string; version: number; changedBy?: string },
  prev?: Stored,
): Stored {
  const fieldVersions: Record<string, number> = { ...(prev?.fieldVersions ?? {}) };
  const fieldModifiedAt: Record<string, string> = { ...(prev?.fieldModifiedAt ?? {}) };
  if (prev) {
    for (const f of CONTENT_FIELDS) {
      if (sameField(content[f], prev[f])) continue;
      fieldVersions[f] = meta.version;
      fieldModifiedAt[f] = meta.changedBy ?? meta.modifiedAt;
    }
  }
  return {
    pieceId,
    ...pickContent(content),
    createdAt: meta.createdAt,
    modifiedAt: meta.modifiedAt,
    version: meta.version,
    fieldVersions,
    fieldModifiedAt,
    history: [historyEntry(meta.version, content), ...(prev?.history ?? []).filter((h: string) => !h.startsWith(`${meta.version}:`))].slice(
      0,
      MERGE_HISTORY_DEPTH,
    ),
  };
}

const laterOf = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

type Op =
  /** adoptOnly: an unedited piece sent on first contact; it only fills a gap, never overwrites. */
  | { type: "edit"; p: PieceInput; adoptOnly?: boolean }
  | { type: "delete"; pieceId: string; version: number; deletedAt?: string };
const opId = (o: Op) => (o.type === "edit" ? o.p.pieceId : o.pieceId);

interface OpOutcome {
  /** The device holds exactly this: list in updatedPieces. */
  accepted?: WirePiece;
  /** The device must take this: list in serverPieces. */
  server?: WirePiece;
  conflict?: Conflict;
  acceptedDelete?: string;
}

/** Decides one operation against the stored item. Pure; the write (if any) is returned. */
function decide(
  userId: string,
  op: Op,
  s: Stored | undefined,
  nowIso: string,
  nowMs: number,
): { write?: PlannedWrite; outcome: (stamped: Stored | undefined) => OpOutcome } {
  if (op.type === "delete") {
    if (!s || s.deleted) return { outcome: () => ({ acceptedDelete: op.pieceId }) };
    if (Number(s.version) !== op.version) {
      // Edited since the deleting device last saw it: the edit is kept.
      return {
        outcome: () => ({
          server: toWire(userId, s),
          conflict: {
            pieceId: op.pieceId,
            resolution: "server-kept",
            strategy: "edit-beats-delete",
            deviceFieldsLost: [],
            reason: `the piece was edited (version ${s.version}) after the version ${op.version} this device deleted`,
          },
        }),
      };
    }
    const item: Stored = {
      pieceId: op.pieceId,
      deleted: true,
      version: Number(s.version) + 1,
      createdAt: s.createdAt,
      modifiedAt: op.deletedAt ?? nowIso,
      [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + TOMBSTONE_RETENTION_DAYS * 86400,
    };
    return {
      write: { table: "pieces", item, expectedVersion: Number(s.version) },
      outcome: () => ({ acceptedDelete: op.pieceId }),
    };
  }

  const p = op.p;
  const content = pickContent(p as Content);
  const id = p.pieceId;
  const accept = (item: Stored) => toWire(userId, item);

  if (!s) {
    const item = pieceItem(id, content, { createdAt: p.createdAt, modifiedAt: p.modifiedAt, version: Math.max(1, p.version) });
    return { write: { table: "pieces", item }, outcome: () => ({ accepted: accept(item) }) };
  }
  if (op.adoptOnly) return { outcome: () => ({}) };
  const sv = Number(s.version);
  // Every field a write changes takes the device's value, so it takes the device's edit time.
  const writeAs = (c: Content, modifiedAt: string, version: number) =>
    pieceItem(
      id,
      c,
      { createdAt: s.deleted ? p.createdAt : String(s.createdAt), modifiedAt, version, changedBy: p.modifiedAt },
      s.deleted ? undefined : s,
    );

  if (s.deleted) {
    // An edit beats a delete: the piece comes back with the device's content.
    const item = writeAs(content, p.modifiedAt, Math.max(sv, p.version) + 1);
    return {
      write: { table: "pieces", item, expectedVersion: sv },
      outcome: () => ({
        accepted: accept(item),
        conflict: {
          pieceId: id,
          resolution: "device-kept",
          strategy: "edit-beats-delete",
          deviceFieldsLost: [],
          reason: "the piece had been deleted on another device; this edit restored it",
        },
      }),
    };
  }
  const serverContent = pickContent(s as Content);
  if (sameContent(content, serverContent)) {
    // Nothing to change: a retried push, or an edit that matches the server.
    return { outcome: () => ({ accepted: accept(s) }) };
  }
  if (sv === p.version) {
    const item = writeAs(content, p.modifiedAt, sv + 1);
    return { write: { table: "pieces", item, expectedVersion: sv }, outcome: () => ({ accepted: accept(item) }) };
  }
  // The device edited an older (or unknown) version: resolve deterministically.
  const m = merge(
    { content, modifiedAt: p.modifiedAt },
    { content: serverContent, modifiedAt: String(s.modifiedAt) },
    findBase(s.history, p.version),
    { baseVersion: p.version, serverFieldVersions: s.fieldVersions, serverFieldModifiedAt: s.fieldModifiedAt },
  );
  const deviceKeptAll = sameContent(m.content, content);
  const conflictOf = (resolution: Conflict["resolution"]): Conflict => ({
    pieceId: id,
    resolution,
    strategy: m.strategy,
    deviceFieldsLost: m.deviceLost,
    reason:
      m.strategy === "three-way"
        ? `edited on another device since version ${p.version}; merged field by field`
        : `edited on another device and version ${p.version} is no longer known; the later edit won`,
  });
  if (sameContent(m.content, serverContent) && sv > p.version) {
    return { outcome: () => ({ server: toWire(userId, s), conflict: conflictOf("server-kept") }) };
  }
  const modifiedAt = deviceKeptAll ? p.modifiedAt : laterOf(p.modifiedAt, String(s.modifiedAt));
  const item = writeAs(m.content, modifiedAt, Math.max(sv, p.version) + 1);
  return {
    write: { table: "pieces", item, expectedVersion: sv },
    outcome: () =>
      deviceKeptAll
        ? { accepted: accept(item), conflict: conflictOf("device-kept") }
        : { server: accept(item), conflict: conflictOf("merged") },
  };
}

function opSize(o: Op): number {
  return o.type === "edit" ? escapedSize(o.p) + 400 : 200;
}

async function pushGroup(store: Store, userId: string, ops: Op[]): Promise<{ outcomes: OpOutcome[]; written: number }> {
  return readPlanCommit(store, userId, "pieces", ops.map(opId), (existing): Plan<{ outcomes: OpOutcome[]; written: number }> => {
    const nowMs = store.now();
    const nowIso = new Date(nowMs).toISOString();
    const decisions = ops.map((o) => decide(userId, o, existing.get(opId(o)), nowIso, nowMs));
    const writes = decisions.flatMap((d) => (d.write ? [d.write] : []));
    return {
      writes,
      finish: (_stamp: CommitStamp | undefined) => ({
        outcomes: decisions.map((d) => d.outcome(d.write?.item)),
        written: writes.length,
      }),
    };
  });
}

/** Start of a pull, from a v1 lastSyncedAt or a protocol-2 cursor. */
function pullStart(req: PiecesRequest, nowMs: number): { start: PullStart; expired: boolean } {
  if (req.protocol === 2) {
    if (!req.cursor) return { start: { kind: "all" }, expired: false };
    const key = decodeCursor(req.cursor);
    // Tombstones older than the retention are gone: such a cursor cannot be trusted
    // to learn every delete, so the device starts over.
    const expired = Date.parse(key.slice(0, 24)) < nowMs - TOMBSTONE_RETENTION_DAYS * 86400 * 1000;
    return expired ? { start: { kind: "all" }, expired } : { start: { kind: "after-key", key }, expired };
  }
  if (req.lastSyncedAt) return { start: { kind: "since-time", ms: Date.parse(req.lastSyncedAt) }, expired: false };
  return { start: { kind: "all" }, expired: false };
}

export interface SyncOptions {
  /** Escaped bytes a response may take (default: under Lambda's 6 MB). */
  responseBudgetBytes?: number;
}

export async function syncPieces(
  store: Store,
  userId: string,
  req: PiecesRequest,
  opts: SyncOptions = {},
): Promise<{ response: PiecesResponse; stats: PiecesStats }> {
  const v2 = req.protocol === 2;
  // A cursor this server did not issue is a 400 before anything is pushed, not after.
  if (v2 && req.cursor) decodeCursor(req.cursor);
  const first = await store.getSyncState(userId);
  // A user this server has never seen (first sync, or moving from the old backend):
  // every piece the device holds is taken as a push, so nothing is left behind.
  const adopt = !first.exists;

  const ops: Op[] = [];
  if (req.operation !== "download") {
    for (const p of req.pieces) {
      if (p.locallyModified) ops.push({ type: "edit", p });
      else if (adopt) ops.push({ type: "edit", p, adoptOnly: true });
    }
    for (const d of req.deletedPieces ?? []) ops.push({ type: "delete", ...d });
  }
  const outcomes: OpOutcome[] = [];
  let written = 0;
  for (const group of groupForTransactions(ops, opSize)) {
    const r = await pushGroup(store, userId, group);
    outcomes.push(...r.outcomes);
    written += r.written;
  }

  const updated = new Map<string, WirePiece>();
  const server = new Map<string, WirePiece>();
  const conflicts: Conflict[] = [];
  const acceptedDeletes: string[] = [];
  for (const o of outcomes) {
    if (o.accepted) updated.set(o.accepted.pieceId, o.accepted);
    if (o.server) server.set(o.server.pieceId, o.server);
    if (o.conflict) conflicts.push(o.conflict);
    if (o.acceptedDelete) acceptedDeletes.push(o.acceptedDelete);
  }

  const deletedPieces: NonNullable<PiecesResponse["deletedPieces"]> = [];
  let syncedAt: string;
  let cursor: string | undefined;
  let more = false;
  let pulled = 0;
  let expired = false;
  if (req.operation === "upload") {
    syncedAt = req.lastSyncedAt ?? "1970-01-01T00:00:00Z";
  } else {
    // Nothing written: the state read at the start is still the one to pull up to.
    const state = written === 0 && first.exists ? first : await store.ensureSyncState(userId);
    const ps = pullStart(req, store.now());
    expired = ps.expired;
    const fixed = escapedSize({ serverPieces: [...server.values()], updatedPieces: [...updated.values()], conflicts }) + 4096;
    const page = await pullChanges<WirePiece | { tombstone: true; pieceId: string; version: number; deletedAt: string }>({
      store,
      kind: "pieces",
      userId,
      state,
      start: ps.start,
      budget: (opts.responseBudgetBytes ?? RESPONSE_BUDGET_BYTES) - fixed,
      limit: v2 ? (req.limit ?? DEFAULT_PAGE_LIMIT) : Infinity,
      exact: v2,
      render: (item) => {
        if (item.deleted) {
          return v2 ? { tombstone: true, pieceId: String(item.pieceId), version: Number(item.version), deletedAt: String(item.modifiedAt) } : undefined;
        }
        // The device was just told it holds this version: no need to spend the page on it.
        if (updated.get(String(item.pieceId))?.version === Number(item.version)) return undefined;
        return toWire(userId, item);
      },
    });
    for (const w of page.items) {
      if ("tombstone" in w) {
        deletedPieces.push({ pieceId: w.pieceId, version: w.version, deletedAt: w.deletedAt });
        continue;
      }
      pulled++;
      // Changed again since it was acknowledged: the device takes the newer one.
      if (updated.has(w.pieceId)) updated.delete(w.pieceId);
      const prev = server.get(w.pieceId);
      if (!prev || prev.version <= w.version) server.set(w.pieceId, w);
    }
    syncedAt = page.syncedAt;
    more = page.more;
    cursor = page.lastKey ? encodeCursor(page.lastKey) : req.cursor;
  }

  const response: PiecesResponse = {
    serverPieces: [...server.values()],
    uploadedPieces: [...updated.keys()],
    updatedPieces: [...updated.values()],
    syncedAt,
  };
  if (v2) {
    Object.assign(response, { cursor, hasMore: more, deletedPieces, acceptedDeletes, conflicts });
    if (expired) response.cursorExpired = true;
  }
  return { response, stats: { pushed: ops.length, written, conflicts: conflicts.length, pulled, more } };
}
