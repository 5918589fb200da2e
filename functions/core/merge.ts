// What a push changed, and how it is merged with what the server holds. Pure
// functions: the same inputs always give the same result, whichever device is
// "server".
//
// A piece keeps, for each content field, the versions at which the field took its
// last FIELD_HISTORY_DEPTH values and a hash of each value (fieldHistory), and the
// edit time of its current value (fieldModifiedAt). A push names the server
// version the device started from (its base, see baseVersion in versions.ts), so
// for every field the server can tell:
// - the value the device started from (the entry at or below the base), so whether
//   the device changed the field or merely holds it as it was;
// - whether another device changed the field since (an entry above the base).
// A value the device holds only because it is stale never overwrites a newer one;
// a field the device really changed is kept unless another device changed the
// same field too, and then the later edit of that field wins (the device's
// modifiedAt against the field's edit time; equal times: the larger value hash).
import { createHash } from "node:crypto";
import { FIELD_HISTORY_DEPTH } from "../../lib/limits";

/** The fields a user edits; everything else on a piece is metadata. */
export const CONTENT_FIELDS = [
  "title",
  "category",
  "lyrics",
  "language",
  "englishTranslation",
  "author",
  "sourceUrl",
  "notes",
  "includeInPractice",
  "isFavorite",
] as const;
export type ContentField = (typeof CONTENT_FIELDS)[number];
export type Content = {
  title: string;
  category: "oli" | "mele";
  lyrics: string;
  language?: string;
  englishTranslation?: string;
  author?: string;
  sourceUrl?: string;
  notes?: string;
  includeInPractice: boolean;
  isFavorite: boolean;
};

/** What the app puts in `language` when a piece has none (Piece.swift, SyncService.swift). */
export const DEFAULT_LANGUAGE = "haw";

const HASH_CHARS = 8;
const EMPTY_HASH = "-".repeat(HASH_CHARS);

/** Absent, null and "" are the same value (the app omits empty optional keys). */
function normalize(v: unknown): unknown {
  return v === "" || v === null ? undefined : v;
}

export function hashValue(v: unknown): string {
  const n = normalize(v);
  if (n === undefined) return EMPTY_HASH;
  return createHash("sha256").update(JSON.stringify(n)).digest("hex").slice(0, HASH_CHARS);
}

/** Field hashes in CONTENT_FIELDS order, concatenated. */
export function contentHashes(c: Content): string {
  return CONTENT_FIELDS.map((f) => hashValue(c[f])).join("");
}

export function sameField(a: unknown, b: unknown): boolean {
  return normalize(a) === normalize(b);
}

export function sameContent(a: Content, b: Content): boolean {
  return CONTENT_FIELDS.every((f) => sameField(a[f], b[f]));
}

/**
 * The content fields of a piece or item, empty optional values left out, and
 * `language` as the app reads it (absent means "haw"), so that a piece and the
 * app's copy of it compare equal.
 */
export function pickContent(src: Partial<Content> | Record<string, unknown>): Content {
  const out: Record<string, unknown> = {};
  for (const f of CONTENT_FIELDS) {
    const v = normalize((src as Record<string, unknown>)[f]);
    if (v !== undefined) out[f] = v;
  }
  if (out.language === undefined) out.language = DEFAULT_LANGUAGE;
  return out as Content;
}

// ---- field history ------------------------------------------------------------

/** One field's past values, newest first: "<version>:<hash>" joined by ",". */
export type FieldHistory = Partial<Record<ContentField, string>>;

interface Entry {
  version: number;
  hash: string;
}

function entries(h: string | undefined): Entry[] {
  if (!h) return [];
  return h.split(",").map((e) => {
    const i = e.indexOf(":");
    return { version: Number(e.slice(0, i)), hash: e.slice(i + 1) };
  });
}

/** The history of a piece written at `version` with `content`, after `prev` (absent: a new piece). */
export function nextFieldHistory(prev: FieldHistory | undefined, version: number, content: Content): FieldHistory {
  const out: FieldHistory = {};
  for (const f of CONTENT_FIELDS) {
    const h = hashValue(content[f]);
    const old = entries(prev?.[f]);
    const list = old.length && old[0].hash === h ? old : [{ version, hash: h }, ...old];
    out[f] = list
      .slice(0, FIELD_HISTORY_DEPTH)
      .map((e) => `${e.version}:${e.hash}`)
      .join(",");
  }
  return out;
}

/** Fields whose value changed between two contents. */
export function changedFields(a: Content, b: Content): ContentField[] {
  return CONTENT_FIELDS.filter((f) => !sameField(a[f], b[f]));
}

// ---- merge --------------------------------------------------------------------

export interface ServerSide {
  content: Content;
  modifiedAt: string;
  fieldHistory?: FieldHistory;
  /** Edit time of each field's current value. */
  fieldModifiedAt?: Partial<Record<ContentField, string>>;
}

export interface DeviceSide {
  content: Content;
  modifiedAt: string;
  /** The server version the device started from, or undefined when it is not one of this piece's. */
  base: number | undefined;
}

export interface MergeResult {
  content: Content;
  /** "three-way" when every field's base value was known, else "history" (some field decided without it). */
  strategy: "three-way" | "history";
  /** Fields where the device's value lost to the server's in a conflict. */
  deviceLost: ContentField[];
  /** Fields where the server's value was replaced by the device's. */
  serverLost: ContentField[];
  /** Fields both sides changed to different values. */
  conflicted: ContentField[];
}

/** The later edit wins; on equal times the larger hash, so the answer does not depend on arrival order. */
function deviceWins(deviceTime: string, serverTime: string | undefined, dv: unknown, sv: unknown): boolean {
  const dt = Date.parse(deviceTime);
  const st = serverTime === undefined ? Number.NEGATIVE_INFINITY : Date.parse(serverTime);
  if (dt !== st) return dt > st;
  return hashValue(dv) > hashValue(sv);
}

export function merge(device: DeviceSide, server: ServerSide): MergeResult {
  const out: Record<string, unknown> = {};
  const deviceLost: ContentField[] = [];
  const serverLost: ContentField[] = [];
  const conflicted: ContentField[] = [];
  let strategy: MergeResult["strategy"] = "three-way";
  for (const f of CONTENT_FIELDS) {
    const dv = device.content[f];
    const sv = server.content[f];
    let take: "d" | "s" = "s";
    if (!sameField(dv, sv)) {
      const hist = entries(server.fieldHistory?.[f]);
      const dHash = hashValue(dv);
      const baseEntry = device.base === undefined ? undefined : hist.find((e) => e.version <= device.base!);
      let dChanged: boolean;
      let sChanged: boolean;
      if (baseEntry) {
        dChanged = dHash !== baseEntry.hash;
        sChanged = hist[0] !== baseEntry;
      } else {
        // The device's base is not known for this field (older than the kept
        // history, or not a version of this piece). A value the server once had
        // is one the device holds because it is stale; any other is its edit.
        strategy = "history";
        dChanged = !hist.some((e) => e.hash === dHash);
        sChanged = true;
      }
      if (dChanged && !sChanged) take = "d";
      else if (dChanged) {
        conflicted.push(f);
        take = deviceWins(device.modifiedAt, server.fieldModifiedAt?.[f] ?? server.modifiedAt, dv, sv) ? "d" : "s";
      }
      if (take === "s" && dChanged) deviceLost.push(f);
      if (take === "d" && sChanged) serverLost.push(f);
    }
    const v = take === "d" ? dv : sv;
    if (normalize(v) !== undefined) out[f] = v;
  }
  return { content: pickContent(out), strategy, deviceLost, serverLost, conflicted };
}
