// `haumana-ops migrate`, the verification: per user, the old pieces and sessions
// against what the stack's tables hold, as the app would see them (toWire and
// toWireSession of the new items against the old items normalised the way a sync
// normalises them). A difference is something of the old backend's that the new one
// does not serve: a piece or session missing, a content field with another value,
// a version a device holding the old one would not take, a session's start, piece
// or end. A value changed on the new backend since (its edit time is later than
// the old item's) and dates a device's copy brought are notes, not differences.
import { userItems } from "../../functions/core/export";
import { CONTENT_FIELDS, pickContent, sameField } from "../../functions/core/merge";
import { toWire } from "../../functions/core/pieces";
import { toWireSession } from "../../functions/core/sessions";
import type { Store, TableKind } from "../../functions/core/store";
import type { PieceInput, SessionInput } from "../../functions/core/validation";
import { PIECES_TABLE, SESSIONS_TABLE } from "../../lib/tables";
import type { UserData } from "./migrate-source";

export interface Finding {
  userId: string;
  kind: "piece" | "session";
  id: string;
  /** The field that differs; absent when the whole item does. */
  field?: string;
  old?: unknown;
  new?: unknown;
  problem: string;
}

export interface UserCheck {
  userId: string;
  /** old: distinct pieces the old tables hold for the user; new: live pieces the stack holds; same: old ones served unchanged. */
  pieces: { old: number; new: number; same: number };
  sessions: { old: number; new: number; same: number };
  ok: boolean;
}

type Item = Record<string, any>;

/** Every item of a user in one of the stack's tables, by id (the sync state left out), strongly consistent. */
export async function readUserItems(store: Store, kind: TableKind, userId: string): Promise<Map<string, Item>> {
  const rangeKey = (kind === "pieces" ? PIECES_TABLE : SESSIONS_TABLE).rangeKey;
  const out = new Map<string, Item>();
  for await (const page of userItems(store, kind, userId)) for (const it of page) out.set(String(it[rangeKey]), it);
  return out;
}

const SHOWN_CHARS = 60;
/** A value as a finding shows it: text cut short (lyrics can be long). */
function shown(v: unknown): unknown {
  if (typeof v !== "string") return v;
  return v.length > SHOWN_CHARS ? `${v.slice(0, SHOWN_CHARS - 1)}…` : v;
}

const ms = (v: unknown) => Date.parse(String(v));
const second = (v: unknown) => Math.floor(ms(v) / 1000);

function comparePiece(userId: string, old: PieceInput, item: Item | undefined, differences: Finding[], notes: Finding[]): boolean {
  const id = old.pieceId;
  const base = { userId, kind: "piece" as const, id };
  if (!item) {
    differences.push({ ...base, problem: "missing" });
    return false;
  }
  const oldEdit = ms(old.modifiedAt);
  if (item.deleted) {
    const f = { ...base, field: "deleted", new: item.modifiedAt, problem: "deleted on the new backend" };
    if (ms(item.modifiedAt) > oldEdit) notes.push({ ...f, problem: "deleted on the new backend since" });
    else differences.push(f);
    return false;
  }
  const w = toWire(userId, item);
  const o = pickContent(old);
  let same = true;
  for (const f of CONTENT_FIELDS) {
    if (sameField(o[f], w[f])) continue;
    const finding = { ...base, field: f, old: shown(o[f]), new: shown(w[f]) };
    const editedAt = item.fieldModifiedAt?.[f];
    if (editedAt !== undefined && ms(editedAt) > oldEdit) {
      notes.push({ ...finding, problem: `changed on the new backend since (${editedAt})` });
    } else {
      differences.push({ ...finding, problem: "another value" });
      same = false;
    }
  }
  if (w.version <= old.version) {
    differences.push({ ...base, field: "version", old: old.version, new: w.version, problem: "not above the old version: a device holding the old one would not take it" });
    same = false;
  }
  // To the second: the app sends whole seconds, so a device's copy of a millisecond date is that second.
  for (const f of ["createdAt", "modifiedAt"] as const) {
    if (second(w[f]) !== second(old[f])) notes.push({ ...base, field: f, old: old[f], new: w[f], problem: "another date (the copy a device pushed to the new backend)" });
  }
  return same;
}

function compareSession(userId: string, old: SessionInput, item: Item | undefined, differences: Finding[], notes: Finding[]): boolean {
  const base = { userId, kind: "session" as const, id: old.sessionId };
  if (!item) {
    differences.push({ ...base, problem: "missing" });
    return false;
  }
  const w = toWireSession(userId, item);
  let same = true;
  const differ = (field: string, a: unknown, b: unknown) => {
    differences.push({ ...base, field, old: a, new: b, problem: "another value" });
    same = false;
  };
  if (w.pieceId.toUpperCase() !== old.pieceId) differ("pieceId", old.pieceId, w.pieceId);
  if (ms(w.startedAt) !== ms(old.startedAt)) differ("startedAt", old.startedAt, w.startedAt);
  if (ms(w.createdAt) !== ms(old.createdAt)) differ("createdAt", old.createdAt, w.createdAt);
  if (old.endedAt !== undefined && (w.endedAt === undefined || ms(w.endedAt) < ms(old.endedAt))) {
    differences.push({ ...base, field: "endedAt", old: old.endedAt, new: w.endedAt, problem: w.endedAt === undefined ? "the end time is missing" : "an earlier end time" });
    same = false;
  } else if (w.endedAt !== undefined && (old.endedAt === undefined || ms(w.endedAt) > ms(old.endedAt))) {
    notes.push({ ...base, field: "endedAt", old: old.endedAt, new: w.endedAt, problem: "ended later on the new backend" });
  }
  return same;
}

/** One user's old items (valid and refused) against the stack's. */
export function verifyUser(
  user: UserData,
  newPieces: Map<string, Item>,
  newSessions: Map<string, Item>,
): { check: UserCheck; differences: Finding[]; notes: Finding[] } {
  const differences: Finding[] = [];
  const notes: Finding[] = [];
  const { userId } = user;
  let piecesSame = 0;
  let sessionsSame = 0;
  for (const p of user.pieces) if (comparePiece(userId, p, newPieces.get(p.pieceId), differences, notes)) piecesSame++;
  for (const s of user.sessions) if (compareSession(userId, s, newSessions.get(s.sessionId), differences, notes)) sessionsSame++;
  for (const r of user.refused) {
    differences.push({ userId, kind: r.kind, id: r.id ?? "(no id)", problem: `not copied: ${r.code}: ${r.message}` });
  }
  const refusedOf = (kind: "piece" | "session") => user.refused.filter((r) => r.kind === kind).length;
  const live = [...newPieces.values()].filter((i) => !i.deleted).length;
  return {
    check: {
      userId,
      pieces: { old: user.pieces.length + refusedOf("piece"), new: live, same: piecesSame },
      sessions: { old: user.sessions.length + refusedOf("session"), new: newSessions.size, same: sessionsSame },
      ok: differences.length === 0,
    },
    differences,
    notes,
  };
}
