// Conflict resolution for pieces: per-field three-way merge against the base
// revision the device started from (kept as field hashes in the piece's history),
// or last-writer-wins by modifiedAt when that base is gone. Pure functions: the
// same inputs always give the same result, whichever device is "server".
import { createHash } from "node:crypto";

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

const HASH_CHARS = 8;

function hashValue(v: unknown): string {
  if (v === undefined || v === null || v === "") return "-".repeat(HASH_CHARS);
  return createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, HASH_CHARS);
}

/** Field hashes in CONTENT_FIELDS order, concatenated. */
export function contentHashes(c: Content): string {
  return CONTENT_FIELDS.map((f) => hashValue(c[f])).join("");
}

function fieldHash(hashes: string, i: number): string {
  return hashes.slice(i * HASH_CHARS, (i + 1) * HASH_CHARS);
}

/** A history entry: "<version>:<contentHashes>". */
export function historyEntry(version: number, c: Content): string {
  return `${version}:${contentHashes(c)}`;
}

export function findBase(history: string[] | undefined, version: number): string | undefined {
  const prefix = `${version}:`;
  return history?.find((h) => h.startsWith(prefix))?.slice(prefix.length);
}

export function sameContent(a: Content, b: Content): boolean {
  return CONTENT_FIELDS.every((f) => sameField(a[f], b[f]));
}

/** Absent, null and "" are the same value (the app omits empty optional keys). */
export function sameField(a: unknown, b: unknown): boolean {
  return normalize(a) === normalize(b);
}

function normalize(v: unknown): unknown {
  return v === "" || v === null ? undefined : v;
}

export function pickContent(src: Content): Content {
  const out: Record<string, unknown> = {};
  for (const f of CONTENT_FIELDS) if (src[f] !== undefined && src[f] !== "") out[f] = src[f];
  return out as Content;
}

export interface Side {
  content: Content;
  modifiedAt: string;
}

export interface MergeResult {
  content: Content;
  /** "three-way" when the base was known, else "last-writer-wins". */
  strategy: "three-way" | "last-writer-wins";
  /** Fields where the device's value lost to the server's. */
  deviceLost: ContentField[];
  /** Fields where the server's value was replaced by the device's. */
  serverLost: ContentField[];
}

/**
 * Which side wins when both changed the same thing: the later modifiedAt; on a tie,
 * the larger hash of the competing values, so the answer does not depend on which
 * side is the server.
 */
function deviceWins(device: Side, server: Side, dv: unknown, sv: unknown, serverTime = server.modifiedAt): boolean {
  const dt = Date.parse(device.modifiedAt);
  const st = Date.parse(serverTime);
  if (dt !== st) return dt > st;
  return hashValue(dv) > hashValue(sv);
}

export interface MergeBase {
  /** The version the device started from. */
  baseVersion: number;
  /**
   * The version at which each field last changed on the server. With it, a field
   * changed and changed back since the base still counts as changed (a hash
   * comparison alone would take it as untouched).
   */
  serverFieldVersions?: Record<string, number>;
  /**
   * The edit time of each field's last change on the server. A field both sides
   * changed goes to the later edit of that field, not of the whole piece (whose
   * modifiedAt another field's edit may have moved, even backwards on a slow clock).
   */
  serverFieldModifiedAt?: Record<string, string>;
}

export function merge(device: Side, server: Side, baseHashes: string | undefined, since?: MergeBase): MergeResult {
  const out: Record<string, unknown> = {};
  const deviceLost: ContentField[] = [];
  const serverLost: ContentField[] = [];
  if (baseHashes === undefined) {
    const whole = deviceWins(device, server, contentHashes(device.content), contentHashes(server.content));
    const winner = whole ? device.content : server.content;
    for (const f of CONTENT_FIELDS) {
      if (winner[f] !== undefined) out[f] = winner[f];
      if (normalize(device.content[f]) !== normalize(server.content[f])) (whole ? serverLost : deviceLost).push(f);
    }
    return { content: pickContent(out as Content), strategy: "last-writer-wins", deviceLost, serverLost };
  }
  CONTENT_FIELDS.forEach((f, i) => {
    const dv = device.content[f];
    const sv = server.content[f];
    const base = fieldHash(baseHashes, i);
    const dChanged = hashValue(dv) !== base;
    const fv = since?.serverFieldVersions;
    const sChanged = fv ? (fv[f] ?? 0) > since!.baseVersion : hashValue(sv) !== base;
    let take: "d" | "s";
    if (dChanged && !sChanged) take = "d";
    else if (!dChanged) take = "s";
    else if (normalize(dv) === normalize(sv)) take = "s";
    else take = deviceWins(device, server, dv, sv, since?.serverFieldModifiedAt?.[f]) ? "d" : "s";
    const v = take === "d" ? dv : sv;
    if (v !== undefined) out[f] = v;
    if (normalize(dv) !== normalize(sv)) {
      if (take === "s" && dChanged) deviceLost.push(f);
      if (take === "d" && sChanged) serverLost.push(f);
    }
  });
  return { content: pickContent(out as Content), strategy: "three-way", deviceLost, serverLost };
}
