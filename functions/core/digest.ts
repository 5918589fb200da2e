// The per-user repertoire digest. The shipped app lists every piece it holds on
// every sync; this tells, without reading the pieces, which of them the server
// holds in the same state and which it does not.
//
// Each live piece has an entry hash (its id, version and content) and a bucket
// (the first byte of its UUID). The user's sync state keeps, per bucket, the XOR
// of its pieces' entry hashes, updated in the same transaction as every piece
// write; the piece item carries bucketKey = "<bucket>|<entry hash>" for the
// byBucket index (lib/tables.ts). A request's pieces hashed the same way give the
// device's digest: buckets that agree need no read at all, and for a bucket that
// differs one keys-only query of the index lists the server's entries.
import { createHash } from "node:crypto";
import { DIGEST_BUCKETS } from "../../lib/limits";
import { Content, contentHashes } from "./merge";

export const ENTRY_BYTES = 8;
export const DIGEST_BYTES = DIGEST_BUCKETS * ENTRY_BYTES;

/** Bucket of a piece: the first byte of its (upper-case, random) UUID. */
export function bucketOf(pieceId: string): number {
  const b = parseInt(pieceId.slice(0, 2), 16);
  return Number.isNaN(b) ? 0 : b % DIGEST_BUCKETS;
}

export function entryHash(pieceId: string, version: number, content: Content): Buffer {
  return createHash("sha256").update(`${pieceId}|${version}|${contentHashes(content)}`).digest().subarray(0, ENTRY_BYTES);
}

export function bucketKey(pieceId: string, hash: Buffer): string {
  return `${bucketOf(pieceId).toString(16).padStart(2, "0")}|${hash.toString("hex")}`;
}

/** The bucketKey prefix of a bucket, for a begins_with query. */
export function bucketPrefix(bucket: number): string {
  return `${bucket.toString(16).padStart(2, "0")}|`;
}

/** The entry hash in a bucketKey. */
export function entryOfBucketKey(key: string): string {
  return key.slice(3);
}

export function emptyDigest(): Buffer {
  return Buffer.alloc(DIGEST_BYTES);
}

/** A digest as stored (DynamoDB binary), or all zeros when absent or malformed. */
export function digestFrom(v: unknown): Buffer {
  if (v instanceof Uint8Array && v.length === DIGEST_BYTES) return Buffer.from(v);
  return emptyDigest();
}

/** XORs `hash` into `bucket` of `digest` (adding and removing are the same). */
export function xorInto(digest: Buffer, bucket: number, hash: Buffer): void {
  const at = bucket * ENTRY_BYTES;
  for (let i = 0; i < ENTRY_BYTES; i++) digest[at + i] ^= hash[i];
}

/** Buckets where two digests differ. */
export function differingBuckets(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
    const at = bucket * ENTRY_BYTES;
    if (a.compare(b, at, at + ENTRY_BYTES, at, at + ENTRY_BYTES) !== 0) out.push(bucket);
  }
  return out;
}

/** The digest of a set of entries. */
export function digestOf(entries: Iterable<{ pieceId: string; hash: Buffer }>): Buffer {
  const d = emptyDigest();
  for (const e of entries) xorInto(d, bucketOf(e.pieceId), e.hash);
  return d;
}
