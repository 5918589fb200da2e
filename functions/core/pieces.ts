// POST /pieces: take the device's edits, store every piece it holds that the
// server lacks, and answer what it lacks or holds older. Answers exactly in the
// shipped app's v1 shape (../shared/ios-sync-contract.md); protocol 2 (README,
// "Extensions") adds paging, deletes, a conflict report and refused pieces.
// Takes its Store (DynamoDB client, clock) as an argument so the Lambda, the local
// server, the tests and the bench run the same code.
//
// A v1 request lists every piece the device holds. The server compares that list
// with its own bucket by bucket through the repertoire digest (digest.ts), so a
// sync reads only what differs: pieces the device holds exactly as the server does
// cost nothing, and a full pull (every cold start) answers only what the device
// lacks or holds older.
import {
  MAX_DIFF_BUCKETS,
  MAX_PIECE_ITEM_BYTES,
  MAX_PUSHES_PER_REQUEST,
  RESPONSE_BUDGET_BYTES,
  TOMBSTONE_RETENTION_DAYS,
} from "../../lib/limits";
import { plainItemBytes } from "../../lib/item-size";
import { BUCKET_KEY, TTL_ATTRIBUTE } from "../../lib/tables";
import { bucketKey, bucketOf, differingBuckets, digestOf, entryHash, entryOfBucketKey } from "./digest";
import { FieldIssue } from "./errors";
import { changedFields, Content, ContentField, merge, nextFieldHistory, pickContent, sameContent } from "./merge";
import { PlannedWrite, Store, SyncState } from "./store";
import {
  applyOps,
  completeSyncedAt,
  decodeCursor,
  Decision,
  encodeCursor,
  escapedSize,
  isoMillis,
  pullChanges,
  PullStart,
  stateKey,
} from "./sync-engine";
import { DEFAULT_PAGE_LIMIT, PieceInput, PiecesRequest, Refused } from "./validation";
import { baseVersion, isServerVersion, nextVersion } from "./versions";

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
  strategy: "three-way" | "history" | "edit-beats-delete";
  /** Fields whose value from the device did not survive. */
  deviceFieldsLost: ContentField[];
  reason: string;
}

export interface RefusedPiece {
  /** Absent when the entry had no readable id. */
  pieceId?: string;
  /** Position in the request's `pieces`. */
  index: number;
  code: Refused["code"];
  message: string;
  fields?: FieldIssue[];
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
  refusedPieces?: RefusedPiece[];
  cursorExpired?: boolean;
}

export interface PiecesStats {
  pushed: number;
  written: number;
  adopted: number;
  conflicts: number;
  refused: number;
  /** Refused pieces as "index:code", for the log line (no content). */
  refusedReasons?: string;
  deferred: number;
  bucketsRead: number;
  pulled: number;
  fullPull: boolean;
  more: boolean;
}

type Stored = Record<string, any>;

const SIZE_SLACK = 1;

export function toWire(userId: string, item: Stored): WirePiece {
  const c = pickContent(item);
  return {
    ...c,
    pieceId: String(item.pieceId),
    userId,
    // The app decodes these as required: a piece lacking one fails the whole sync.
    title: c.title ?? "",
    category: c.category ?? "oli",
    lyrics: c.lyrics ?? "",
    includeInPractice: c.includeInPractice ?? true,
    isFavorite: c.isFavorite ?? false,
    createdAt: isoMillis(item.createdAt),
    modifiedAt: isoMillis(item.modifiedAt),
    version: Number(item.version),
    locallyModified: false,
  };
}

/** A stored piece's entry hash (hex); tombstones have none. */
function storedEntry(item: Stored): string | undefined {
  if (item.deleted) return undefined;
  if (typeof item[BUCKET_KEY] === "string") return entryOfBucketKey(item[BUCKET_KEY]);
  return entryHash(String(item.pieceId), Number(item.version), pickContent(item)).toString("hex");
}

function digestDelta(pieceId: string, before: Stored | undefined, after: Stored): PlannedWrite["digest"] {
  const out: NonNullable<PlannedWrite["digest"]> = [];
  const bucket = bucketOf(pieceId);
  const b = before && storedEntry(before);
  const a = storedEntry(after);
  if (b) out.push({ bucket, hash: Buffer.from(b, "hex") });
  if (a) out.push({ bucket, hash: Buffer.from(a, "hex") });
  return out;
}

/**
 * A live piece item at `meta.version`. `prev` is the item it replaces in the same
 * life (undefined for a new piece or one brought back from a tombstone): its field
 * history carries on, and each field that changes now gets `meta.changedBy`, the
 * edit time of the device whose value it takes.
 */
function pieceItem(
  pieceId: string,
  content: Content,
  meta: { createdAt: string; modifiedAt: string; version: number; changedBy?: string },
  prev?: Stored,
): Stored {
  const fieldModifiedAt: Record<string, string> = { ...(prev?.fieldModifiedAt ?? {}) };
  const changed = prev ? changedFields(content, pickContent(prev)) : undefined;
  for (const f of changed ?? (Object.keys(content) as ContentField[])) fieldModifiedAt[f] = meta.changedBy ?? meta.modifiedAt;
  const item: Stored = {
    pieceId,
    ...content,
    createdAt: meta.createdAt,
    modifiedAt: meta.modifiedAt,
    version: meta.version,
    fieldHistory: nextFieldHistory(prev?.fieldHistory, meta.version, content),
    fieldModifiedAt,
  };
  item[BUCKET_KEY] = bucketKey(pieceId, entryHash(pieceId, meta.version, content));
  return item;
}

const laterOf = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

type Op =
  /**
   * adoptOnly: a piece the device holds unchanged, stored only if the server lacks it.
   * unchanged: a piece the device holds unchanged at a version this server never
   * issued; merged like an edit, but never brings back a deleted piece.
   */
  | { type: "edit"; p: PieceInput; adoptOnly?: boolean; unchanged?: boolean }
  | { type: "delete"; pieceId: string; version: number; deletedAt?: string };
const opId = (o: Op) => (o.type === "edit" ? o.p.pieceId : o.pieceId);

interface OpOutcome {
  /** The device holds exactly this item now: list it in updatedPieces. */
  accepted?: Stored;
  /** The device must take this item: list it in serverPieces. */
  server?: Stored;
  conflict?: Conflict;
  acceptedDelete?: string;
  refused?: Pick<Refused, "code" | "message">;
}

function tooLarge(item: Stored): OpOutcome | undefined {
  const bytes = plainItemBytes(item);
  if (bytes <= MAX_PIECE_ITEM_BYTES) return undefined;
  return {
    refused: {
      code: "too_large",
      message: `merged with the server's copy the piece would take ${bytes} bytes; a piece can hold at most ${MAX_PIECE_ITEM_BYTES}`,
    },
  };
}

const EXHAUSTED: OpOutcome = {
  refused: { code: "version_exhausted", message: "this piece has no versions left; copy it into a new piece" },
};

/**
 * True when the account was deleted and this piece is of the repertoire deleted with
 * it: it carries a version the server issued before (a base), or was created before
 * the deletion. A device still signed in keeps its copy, but it is never taken back;
 * pieces created afterwards are a fresh start.
 */
export function ofDeletedAccount(state: SyncState, p: { version: number; createdAt: string }): boolean {
  if (!state.accountDeletedAt) return false;
  return baseVersion(p.version) > 0 || Date.parse(p.createdAt) <= Date.parse(state.accountDeletedAt);
}

const DELETED_ACCOUNT: OpOutcome = {
  refused: {
    code: "account_deleted",
    message: "This piece belongs to data deleted with the account; it is not stored again. New pieces sync as usual.",
  },
};

/** Decides one operation against the stored item. Pure; the write (if any) is returned. */
function decide(op: Op, s: Stored | undefined, nowMs: number, state: SyncState): Decision<OpOutcome> {
  if (op.type === "delete") return decideDelete(op, s, nowMs);
  const p = op.p;
  if (!s && ofDeletedAccount(state, p)) return { result: DELETED_ACCOUNT };
  const id = p.pieceId;
  const content = pickContent(p);

  if (!s || s.deleted) {
    if (s && (op.adoptOnly || op.unchanged)) return { result: {} };
    const version = nextVersion(s ? Number(s.version) : undefined, p.version);
    if (version === undefined) return { result: EXHAUSTED };
    // New, or an edit that brings back a piece deleted elsewhere: a new life.
    const item = pieceItem(id, content, { createdAt: p.createdAt, modifiedAt: p.modifiedAt, version });
    const big = tooLarge(item);
    if (big) return { result: big };
    const write: PlannedWrite = { table: "pieces", item, digest: digestDelta(id, s, item) };
    if (s) {
      write.expectedVersion = Number(s.version);
      const conflict: Conflict = {
        pieceId: id,
        resolution: "device-kept",
        strategy: "edit-beats-delete",
        deviceFieldsLost: [],
        reason: "the piece had been deleted on another device; this edit restored it",
      };
      return { write, result: { accepted: item, conflict } };
    }
    return { write, result: { accepted: item } };
  }
  if (op.adoptOnly) return { result: {} };

  const sv = Number(s.version);
  const serverContent = pickContent(s);
  // A retry, or a push that changed nothing the server does not already hold.
  if (sameContent(content, serverContent)) return { result: { accepted: s } };

  const base = baseVersion(p.version);
  const m = merge(
    { content, modifiedAt: p.modifiedAt, base: base <= sv ? base : undefined },
    { content: serverContent, modifiedAt: String(s.modifiedAt), fieldHistory: s.fieldHistory, fieldModifiedAt: s.fieldModifiedAt },
  );
  // Reported (protocol 2) when both sides' changes met: a merge, a lost field, or a
  // field the device won over another device's change. A push that only carried
  // values the server has since replaced is no conflict.
  const conflict = (resolution: Conflict["resolution"]): Conflict | undefined =>
    (resolution === "server-kept" && m.deviceLost.length === 0) || (resolution === "device-kept" && m.serverLost.length === 0)
      ? undefined
      : {
          pieceId: id,
          resolution,
          strategy: m.strategy,
          deviceFieldsLost: m.deviceLost,
          reason:
            m.strategy === "three-way"
              ? `edited on another device since version ${base}; merged field by field, the later edit of a field both changed winning`
              : `edited on another device since a version this server no longer knows; merged field by field by each value's history`,
        };
  const version = nextVersion(sv, p.version);

  if (sameContent(m.content, serverContent)) {
    // The device only holds older values (or lost every conflict): it takes the
    // server's copy, which must carry a version above the device's to be taken.
    if (sv > p.version) return { result: { server: s, conflict: conflict("server-kept") } };
    if (version === undefined) return { result: EXHAUSTED };
    const item = pieceItem(id, serverContent, { createdAt: String(s.createdAt), modifiedAt: String(s.modifiedAt), version }, s);
    return {
      write: { table: "pieces", item, expectedVersion: sv, digest: digestDelta(id, s, item) },
      result: { server: item, conflict: conflict("server-kept") },
    };
  }
  if (version === undefined) return { result: EXHAUSTED };
  const deviceKeptAll = sameContent(m.content, content);
  const modifiedAt = deviceKeptAll ? p.modifiedAt : laterOf(p.modifiedAt, String(s.modifiedAt));
  const item = pieceItem(id, m.content, { createdAt: String(s.createdAt), modifiedAt, version, changedBy: p.modifiedAt }, s);
  const big = tooLarge(item);
  if (big) return { result: big };
  const write: PlannedWrite = { table: "pieces", item, expectedVersion: sv, digest: digestDelta(id, s, item) };
  return deviceKeptAll
    ? { write, result: { accepted: item, conflict: conflict("device-kept") } }
    : { write, result: { server: item, conflict: conflict("merged") } };
}

function decideDelete(op: Extract<Op, { type: "delete" }>, s: Stored | undefined, nowMs: number): Decision<OpOutcome> {
  if (!s || s.deleted) return { result: { acceptedDelete: op.pieceId } };
  const sv = Number(s.version);
  if (baseVersion(op.version) !== sv) {
    // Edited since the deleting device last saw it: the edit is kept.
    return {
      result: {
        server: s,
        conflict: {
          pieceId: op.pieceId,
          resolution: "server-kept",
          strategy: "edit-beats-delete",
          deviceFieldsLost: [],
          reason: `the piece was edited (version ${sv}) after the version ${baseVersion(op.version)} this device deleted`,
        },
      },
    };
  }
  const version = nextVersion(sv, op.version);
  if (version === undefined) return { result: EXHAUSTED };
  const item: Stored = {
    pieceId: op.pieceId,
    deleted: true,
    version,
    createdAt: s.createdAt,
    modifiedAt: op.deletedAt ?? new Date(nowMs).toISOString(),
    [TTL_ATTRIBUTE]: Math.floor(nowMs / 1000) + TOMBSTONE_RETENTION_DAYS * 86400,
  };
  return {
    write: { table: "pieces", item, expectedVersion: sv, digest: digestDelta(op.pieceId, s, item) },
    result: { acceptedDelete: op.pieceId },
  };
}

/** Start of an incremental pull, from a v1 lastSyncedAt or a protocol-2 cursor. */
function pullStart(req: PiecesRequest, cursorKey: string | undefined, nowMs: number): { start: PullStart; expired: boolean } {
  if (req.protocol === 2) {
    if (!cursorKey) return { start: { kind: "all" }, expired: false };
    // Tombstones older than the retention are gone: such a cursor cannot be trusted
    // to learn every delete, so the device starts over.
    const expired = Date.parse(cursorKey.slice(0, 24)) < nowMs - TOMBSTONE_RETENTION_DAYS * 86400 * 1000;
    return expired ? { start: { kind: "all" }, expired } : { start: { kind: "after-key", key: cursorKey }, expired };
  }
  return { start: { kind: "since-time", ms: Date.parse(req.lastSyncedAt!) }, expired: false };
}

export interface SyncOptions {
  /** Escaped bytes a response may take (default: under Lambda's 6 MB). */
  responseBudgetBytes?: number;
}

/** What the response may still take, in escaped bytes. */
class Budget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(value: unknown): boolean {
    const n = escapedSize(value) + SIZE_SLACK;
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  get left(): number {
    return Math.max(0, this.limit - this.used);
  }
}

/** Reads the entries of several buckets, a few queries at a time. */
async function readBuckets(store: Store, userId: string, buckets: number[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < buckets.length; i += BUCKET_READS_AT_ONCE) {
    const maps = await Promise.all(buckets.slice(i, i + BUCKET_READS_AT_ONCE).map((b) => store.queryBucket(userId, b)));
    for (const m of maps) for (const [id, e] of m) out.set(id, e);
  }
  return out;
}

const BUCKET_READS_AT_ONCE = 8;

/** The entry hash (hex) of a device's copy of a piece. */
const deviceEntry = (p: PieceInput) => entryHash(p.pieceId, p.version, pickContent(p)).toString("hex");

/** Runs a push and folds its outcomes into `outcomes` (by piece id). */
async function push(store: Store, userId: string, ops: Op[], state: SyncState, outcomes: Map<string, OpOutcome>) {
  const r = await applyOps({ store, userId, kind: "pieces", ops, idOf: opId, decide, state });
  ops.forEach((op, i) => outcomes.set(opId(op), r.results[i]));
  return r;
}

export async function syncPieces(
  store: Store,
  userId: string,
  req: PiecesRequest,
  opts: SyncOptions = {},
): Promise<{ response: PiecesResponse; stats: PiecesStats }> {
  const v2 = req.protocol === 2;
  let state = await store.getSyncState(userId);
  // A cursor this server did not issue to this user is a 400 before anything is pushed.
  const cursorKey = v2 && req.cursor ? decodeCursor(req.cursor, userId, stateKey(state)) : undefined;

  // ---- push: the device's edits (and, protocol 2, deletes and unchanged pieces to adopt)
  const ops: Op[] = [];
  const outcomes = new Map<string, OpOutcome>();
  if (req.operation !== "download") {
    for (const p of req.pieces) {
      if (ofDeletedAccount(state, p)) {
        if (p.locallyModified) outcomes.set(p.pieceId, DELETED_ACCOUNT);
      } else if (p.locallyModified) ops.push({ type: "edit", p });
      else if (v2) ops.push({ type: "edit", p, adoptOnly: true });
    }
    for (const d of req.deletedPieces ?? []) ops.push({ type: "delete", ...d });
  }
  // A backlog past the cap waits for the next sync, unacknowledged.
  const deferred = ops.splice(MAX_PUSHES_PER_REQUEST).length;
  let written = 0;
  if (ops.length) {
    const r = await push(store, userId, ops, state, outcomes);
    written += r.written;
    state = r.state!;
  }

  // ---- v1: compare what the device holds with the server, bucket by bucket
  if (!state.exists && req.operation !== "upload") state = await store.ensureSyncState(userId);
  // A v1 device without lastSyncedAt (every cold start and sign-in), or with one this
  // server cannot have issued (later than anything it holds for this user), gets what
  // it lacks or holds older.
  const fullPull =
    !v2 && req.operation !== "upload" && (!req.lastSyncedAt || Date.parse(req.lastSyncedAt) > Date.parse(completeSyncedAt(state)));
  let holdings: Map<string, string> | undefined;
  let serverEntries = new Map<string, string>();
  /** True when serverEntries covers every bucket where the device and the server differ. */
  let complete = false;
  let bucketsRead = 0;
  let adopted = 0;
  if (!v2 && req.operation !== "upload") {
    holdings = new Map();
    // Pieces of a deleted account's repertoire are never candidates to store again.
    const sentIds = new Set([...ops.map(opId), ...req.pieces.filter((p) => ofDeletedAccount(state, p)).map((p) => p.pieceId)]);
    for (const p of req.pieces) {
      const o = outcomes.get(p.pieceId);
      const held = o?.accepted ?? o?.server;
      holdings.set(p.pieceId, held ? storedEntry(held)! : deviceEntry(p));
    }
    for (let round = 0; round < 3; round++) {
      const differ = differingBuckets(
        digestOf([...holdings].map(([pieceId, hex]) => ({ pieceId, hash: Buffer.from(hex, "hex") }))),
        state.digest,
      );
      // Buckets holding a piece the device has not pushed: where the server may lack one.
      const candidates = new Set(req.pieces.filter((p) => !sentIds.has(p.pieceId)).map((p) => bucketOf(p.pieceId)));
      // A full pull also needs the buckets where the device lacks pieces, unless it lacks
      // so much that reading the changes from the start is the better way (a new device).
      complete = fullPull && holdings.size > 0 && differ.length <= MAX_DIFF_BUCKETS;
      const read = complete ? differ : differ.filter((b) => candidates.has(b));
      serverEntries = await readBuckets(store, userId, read);
      bucketsRead += read.length;
      if (req.operation === "download") break;
      // Pieces the device holds unchanged that the server lacks (and never deleted),
      // and pieces it holds at a version this server never issued (the old backend's)
      // in a state the server does not hold: both are taken as pushes.
      const more: Op[] = [];
      const readSet = new Set(read);
      for (const p of req.pieces) {
        if (sentIds.has(p.pieceId) || !readSet.has(bucketOf(p.pieceId))) continue;
        const onServer = serverEntries.get(p.pieceId);
        if (onServer === undefined) more.push({ type: "edit", p, adoptOnly: isServerVersion(p.version) });
        else if (!isServerVersion(p.version) && onServer !== holdings.get(p.pieceId)) more.push({ type: "edit", p, unchanged: true });
      }
      if (!more.length) break;
      more.splice(MAX_PUSHES_PER_REQUEST);
      for (const op of more) sentIds.add(opId(op));
      const r = await push(store, userId, more, state, outcomes);
      written += r.written;
      adopted += r.written;
      state = r.state!;
      for (const op of more) {
        const o = outcomes.get(opId(op))!;
        const held = o.accepted ?? o.server;
        if (held) holdings.set(opId(op), storedEntry(held)!);
      }
      if (r.written === 0) break;
    }
  }

  // ---- the answer: push outcomes first, then what the device lacks, within the budget
  const budget = new Budget((opts.responseBudgetBytes ?? RESPONSE_BUDGET_BYTES) - 4096);
  const updated = new Map<string, WirePiece>();
  const server = new Map<string, WirePiece>();
  const conflicts: Conflict[] = [];
  const acceptedDeletes: string[] = [];
  const refused: RefusedPiece[] = req.refused.map((r) => ({ pieceId: r.id, index: r.index, code: r.code, message: r.message, fields: r.fields }));
  const indexOf = new Map(req.pieces.map((p, i) => [p.pieceId, i]));
  for (const [id, o] of outcomes) {
    if (o.refused) {
      refused.push({ pieceId: id, index: indexOf.get(id) ?? -1, ...o.refused });
      continue;
    }
    if (o.acceptedDelete && budget.take(id)) acceptedDeletes.push(id);
    // An outcome that does not fit is left out: the device still holds its edit as
    // modified and pushes it again; the server decides the same way then.
    if (o.accepted) {
      const w = toWire(userId, o.accepted);
      if (budget.take(w) && budget.take(id)) updated.set(id, w);
      else continue;
    }
    if (o.server) {
      const w = toWire(userId, o.server);
      if (budget.take(w)) server.set(id, w);
      else continue;
    }
    if (o.conflict && v2 && budget.take(o.conflict)) conflicts.push(o.conflict);
  }
  if (v2) for (const r of refused) budget.take(r);
  // A piece the device pushed as modified and gets no answer for here (refused, past
  // the cap, or left out for size) is never sent from the server's side either: the app
  // takes a newer server copy even over an unsynced edit, so the edit would be lost on
  // the device. It pushes it again; the answer to that push carries both sides.
  const withheld = new Set(req.pieces.filter((p) => p.locallyModified && !updated.has(p.pieceId) && !server.has(p.pieceId)).map((p) => p.pieceId));

  const deletedPieces: NonNullable<PiecesResponse["deletedPieces"]> = [];
  let syncedAt: string;
  let cursor: string | undefined;
  let more = false;
  let pulled = 0;
  let expired = false;
  /** A stored item the device holds exactly: not worth a place in the answer. */
  const deviceHolds = (item: Stored) =>
    withheld.has(String(item.pieceId)) ||
    (holdings ? holdings.get(String(item.pieceId)) === storedEntry(item) : updated.get(String(item.pieceId))?.version === Number(item.version));
  const addPulled = (w: WirePiece) => {
    pulled++;
    // Changed again since it was acknowledged: the device takes the newer one.
    updated.delete(w.pieceId);
    const prev = server.get(w.pieceId);
    if (!prev || prev.version <= w.version) server.set(w.pieceId, w);
  };

  if (req.operation === "upload") {
    syncedAt = isoMillis(req.lastSyncedAt ?? 0);
  } else {
    if (!state.exists) state = await store.ensureSyncState(userId);
    let done = false;
    if (fullPull && complete) {
      const want = [...serverEntries].filter(([id, e]) => holdings!.get(id) !== e && !server.has(id) && !withheld.has(id)).map(([id]) => id);
      const items = want.length ? await store.getMany("pieces", userId, want) : new Map<string, Stored>();
      const page: WirePiece[] = [];
      const pageBudget = new Budget(budget.left);
      done = [...items.values()].every((item) => {
        if (item.deleted) return true;
        const w = toWire(userId, item);
        page.push(w);
        return pageBudget.take(w);
      });
      if (done) {
        page.forEach(addPulled);
        syncedAt = completeSyncedAt(state);
      }
    }
    if (!done) {
      // Incremental (or a full pull too large for one answer): the changes since the
      // device's cursor, in change order; a v1 page that must stop ends at a whole
      // second, and its syncedAt is that second.
      const ps = fullPull ? { start: { kind: "all" } as PullStart, expired: false } : pullStart(req, cursorKey, store.now());
      expired = ps.expired;
      const page = await pullChanges<WirePiece | { tombstone: true; pieceId: string; version: number; deletedAt: string }>({
        store,
        kind: "pieces",
        userId,
        state,
        start: ps.start,
        budget: budget.left,
        limit: v2 ? (req.limit ?? DEFAULT_PAGE_LIMIT) : Infinity,
        exact: v2,
        render: (item) => {
          if (item.deleted) {
            return v2
              ? { tombstone: true, pieceId: String(item.pieceId), version: Number(item.version), deletedAt: isoMillis(item.modifiedAt) }
              : undefined;
          }
          return deviceHolds(item) ? undefined : toWire(userId, item);
        },
      });
      for (const w of page.items) {
        if ("tombstone" in w) deletedPieces.push({ pieceId: w.pieceId, version: w.version, deletedAt: w.deletedAt });
        else addPulled(w);
      }
      syncedAt = page.syncedAt;
      more = page.more;
      cursor = page.lastKey ? encodeCursor(page.lastKey, userId) : req.cursor;
    }
  }

  const response: PiecesResponse = {
    serverPieces: [...server.values()],
    uploadedPieces: [...updated.keys()],
    updatedPieces: [...updated.values()],
    syncedAt: syncedAt!,
  };
  if (v2) {
    Object.assign(response, { cursor, hasMore: more, deletedPieces, acceptedDeletes, conflicts, refusedPieces: refused });
    if (expired) response.cursorExpired = true;
  }
  return {
    response,
    stats: {
      pushed: ops.length,
      written,
      adopted,
      conflicts: [...outcomes.values()].filter((o) => o.conflict).length,
      refused: refused.length,
      refusedReasons: refused.length ? refused.slice(0, 20).map((r) => `${r.index}:${r.code}`).join(",") : undefined,
      deferred,
      bucketsRead,
      pulled,
      fullPull,
      more,
    },
  };
}

/**
 * Stores pieces the server lacks, as a first sync of a device holding them would
 * (`haumana-ops migrate` copies the old backend's pieces through this): each is
 * written at a version of this server's with its own dates as its edit times, unless
 * the server already holds the piece (or its tombstone); refused as a sync would
 * refuse it otherwise. With `mergeHeld`, a piece the server already holds is merged
 * with the given copy the way a full pull merges a device's copy at a version this
 * server never issued (an old backend's): by each value's history and edit time
 * (merge.ts), so a value the server once had never overwrites a newer one. Returns,
 * per piece in order, "stored" (written, the server lacked it), "merged" (written
 * over the piece the server held), "present" (nothing written), or the refusal.
 */
export async function importPieces(
  store: Store,
  userId: string,
  pieces: PieceInput[],
  opts: { mergeHeld?: boolean } = {},
): Promise<({ status: "stored" | "merged" | "present"; version?: number } | { status: "refused"; code: Refused["code"]; message: string })[]> {
  const ops: Op[] = pieces.map((p) => ({
    type: "edit",
    p: { ...p, locallyModified: false },
    ...(opts.mergeHeld ? { unchanged: true } : { adoptOnly: true }),
  }));
  const r = await applyOps({
    store,
    userId,
    kind: "pieces",
    ops,
    idOf: opId,
    decide: (op: Op, s: Stored | undefined, nowMs: number, state: SyncState) => {
      const d = decide(op, s, nowMs, state);
      // A result is kept only once its write is committed (applyOps), so `written` is what the table holds.
      return { write: d.write, result: { outcome: d.result, held: !!s && !s.deleted, written: d.write?.item } };
    },
  });
  return r.results.map(({ outcome: o, held, written }) => {
    if (o.refused) return { status: "refused", ...o.refused };
    if (written) return { status: held ? "merged" : "stored", version: Number(written.version) };
    return { status: "present" };
  });
}
