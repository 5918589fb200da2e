// The repertoire the bench syncs: pieces shaped as the shipped app sends them
// (../shared/ios-sync-contract.md), with lyrics of 1-5 KB like real mele. Ours and
// the baseline are seeded with the same pieces.
import { randomBytes, randomUUID } from "node:crypto";

export interface BenchPiece {
  pieceId: string;
  userId: string;
  title: string;
  category: "oli" | "mele";
  lyrics: string;
  language: string;
  englishTranslation?: string;
  author?: string;
  notes?: string;
  includeInPractice: boolean;
  isFavorite: boolean;
  createdAt: string;
  modifiedAt: string;
  version: number;
  locallyModified: boolean;
}

const WORDS = ["aloha", "ka", "ua", "nā", "pali", "haʻaheo", "lani", "makani", "wai", "kai", "ʻāina", "mauna"];

/** Text of 1-5 KB (UTF-8), varying with i. */
export function lyrics(i: number): string {
  const size = 1024 + ((i * 7919) % 4096);
  let s = "";
  while (Buffer.byteLength(s) < size) s += WORDS[(s.length + i) % WORDS.length] + (s.length % 60 < 6 ? "\n" : " ");
  return s;
}

/** A device clock in whole seconds, as the app sends dates. */
export function isoSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const EPOCH = Date.parse("2025-06-01T08:00:00Z");

export function makePiece(userId: string, i: number): BenchPiece {
  const at = isoSecond(EPOCH + i * 60_000);
  const p: BenchPiece = {
    pieceId: randomUUID().toUpperCase(),
    userId,
    title: `Mele ${i} ${randomBytes(3).toString("hex")}`,
    category: i % 4 === 0 ? "oli" : "mele",
    lyrics: lyrics(i),
    language: "haw",
    includeInPractice: true,
    isFavorite: i % 7 === 0,
    createdAt: at,
    modifiedAt: at,
    version: 1,
    locallyModified: true,
  };
  if (i % 3 === 0) p.notes = "Practice the second verse slowly";
  if (i % 5 === 0) p.author = "Liliʻuokalani";
  if (i % 4 === 1) p.englishTranslation = "Proudly the rain on the cliffs, creeping through the trees";
  return p;
}

/** An edit as the app makes it: new content, a later local edit time, flagged. */
export function edited(p: BenchPiece, stamp: number, editMs: number): BenchPiece {
  return { ...p, notes: `edit ${stamp}`, modifiedAt: isoSecond(editMs), locallyModified: true };
}
