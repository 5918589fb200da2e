// Request schemas for /pieces and /sessions (zod), and the functions that turn a
// raw body into a typed request.
//
// Two levels, because the shipped app retries a failed request unchanged forever:
// - the request as a whole (JSON object, operation, the lists, protocol-2 fields,
//   cursor and limit) is checked first; anything wrong there is a 400 and nothing
//   is written;
// - each piece or session is then checked on its own. One that is malformed, a
//   duplicate, not valid Unicode or too large for a DynamoDB item is refused: left
//   out of the acknowledgements, logged with its reason and, for protocol-2
//   clients, listed with it; the rest of the request syncs.
// The field lists follow ../shared/ios-sync-contract.md; unknown keys are ignored
// so a newer app can add fields without breaking an older server.
import { z } from "zod";
import { plainItemBytes } from "../../lib/item-size";
import {
  MAX_LANGUAGE_CHARS,
  MAX_PAGE_LIMIT,
  MAX_PIECE_ITEM_BYTES,
  MAX_PIECES_PER_REQUEST,
  MAX_SESSIONS_PER_REQUEST,
  MAX_VERSION,
} from "../../lib/limits";
import { FieldIssue, ValidationError } from "./errors";
import { pickContent } from "./merge";

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Opaque cursor: base64url of a change key and a user tag. */
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

/** Extension fields are refused unless the request opted in with "protocol": 2. */
function protocol2Only(r: Record<string, unknown>, keys: string[], ctx: z.RefinementCtx) {
  if (r.protocol === 2) return;
  for (const k of keys) if (r[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: 'needs "protocol": 2' });
}

/** Ids are upper-case UUIDs, as the app writes them (UUID.uuidString). */
const uuid = z
  .string()
  .regex(UUID, "must be a UUID")
  .transform((s) => s.toUpperCase());
const isoDate = z
  .string()
  .regex(ISO_DATE, "must be an ISO-8601 date-time, e.g. 2025-06-18T12:34:56Z")
  .refine((s) => !Number.isNaN(Date.parse(s)), "is not a real date");
const version = z.number().int().min(0).max(MAX_VERSION);

export const pieceSchema = z.object({
  pieceId: uuid,
  userId: z.unknown().optional(),
  title: z.string(),
  category: z.enum(["oli", "mele"]),
  lyrics: z.string(),
  language: z
    .string()
    .max(MAX_LANGUAGE_CHARS)
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, "must be an ISO 639 code")
    .optional(),
  englishTranslation: z.string().optional(),
  author: z.string().optional(),
  sourceUrl: z.string().optional(),
  notes: z.string().optional(),
  includeInPractice: z.boolean(),
  isFavorite: z.boolean(),
  createdAt: isoDate,
  modifiedAt: isoDate,
  lastSyncedAt: z.unknown().optional(),
  version,
  locallyModified: z.boolean(),
});
export type PieceInput = Omit<z.infer<typeof pieceSchema>, "userId" | "lastSyncedAt">;

/** Opt-in protocol 2 (README, "Extensions"): paging, deletes, conflict report. */
const deletedPieceSchema = z.object({
  pieceId: uuid,
  version,
  deletedAt: isoDate.optional(),
});

const tooMany = (n: number, what: string) => `at most ${n} ${what} per request`;

const piecesEnvelope = z
  .object({
    operation: z.enum(["sync", "upload", "download"], { message: 'must be "sync", "upload" or "download"' }),
    lastSyncedAt: isoDate.optional(),
    pieces: z.array(z.unknown()).max(MAX_PIECES_PER_REQUEST, tooMany(MAX_PIECES_PER_REQUEST, "pieces")),
    protocol: z.literal(2).optional(),
    cursor: z.string().regex(CURSOR, "is not a cursor this server issued").optional(),
    limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
    deletedPieces: z.array(deletedPieceSchema).max(MAX_PIECES_PER_REQUEST).optional(),
  })
  .superRefine((r, ctx) => {
    protocol2Only(r, ["cursor", "limit", "deletedPieces"], ctx);
    const seen = new Set<string>();
    (r.deletedPieces ?? []).forEach((d, i) => {
      if (seen.has(d.pieceId)) ctx.addIssue({ code: "custom", path: ["deletedPieces", i, "pieceId"], message: "appears twice" });
      seen.add(d.pieceId);
    });
  });

/** A piece or session the server will not store, and why. */
export interface Refused {
  /** Position in the request's list. */
  index: number;
  /** Its id, upper-case, when it has a readable one. */
  id?: string;
  code: "invalid_piece" | "invalid_session" | "duplicate_id" | "invalid_unicode" | "too_large" | "version_exhausted" | "account_deleted";
  message: string;
  fields?: FieldIssue[];
}

export interface PiecesRequest {
  operation: "sync" | "upload" | "download";
  lastSyncedAt?: string;
  /** The valid pieces, ids upper-case, each id once. */
  pieces: PieceInput[];
  /** Pieces refused on their own (see the header). */
  refused: Refused[];
  protocol?: 2;
  cursor?: string;
  limit?: number;
  deletedPieces?: { pieceId: string; version: number; deletedAt?: string }[];
}

const sessionSchema = z.object({
  sessionId: uuid,
  userId: z.unknown().optional(),
  pieceId: uuid,
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  createdAt: isoDate,
});
export type SessionInput = Omit<z.infer<typeof sessionSchema>, "userId">;

const sessionsEnvelope = z
  .object({
    sessions: z.array(z.unknown()).max(MAX_SESSIONS_PER_REQUEST, tooMany(MAX_SESSIONS_PER_REQUEST, "sessions")),
    protocol: z.literal(2).optional(),
    cursor: z.string().regex(CURSOR, "is not a cursor this server issued").optional(),
    limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
  })
  .superRefine((r, ctx) => protocol2Only(r, ["cursor", "limit"], ctx));

export interface SessionsRequest {
  sessions: SessionInput[];
  refused: Refused[];
  protocol?: 2;
  cursor?: string;
  limit?: number;
}

const MAX_REPORTED_ISSUES = 20;

function issuesOf(e: z.ZodError): FieldIssue[] {
  return e.issues.slice(0, MAX_REPORTED_ISSUES).map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: i.message,
  }));
}

/** Parses the request as a whole or throws a 400 ValidationError naming the fields. */
function parseEnvelope<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const fields = issuesOf(r.error);
  // Too many pieces or sessions, not any top-level number too big (a "limit" of a million is invalid_request).
  const tooManyIssue = r.error.issues.find(
    (i) => i.code === "too_big" && i.path.length === 1 && (i as { origin?: string }).origin === "array",
  );
  if (tooManyIssue) {
    throw new ValidationError("too_many_items", `${String(tooManyIssue.path[0])}: ${tooManyIssue.message}`, fields);
  }
  const first = fields[0];
  throw new ValidationError(
    "invalid_request",
    `${r.error.issues.length} invalid field${r.error.issues.length === 1 ? "" : "s"}; first: ${first.path} ${first.message}`,
    fields,
  );
}

/** The id of a list entry that failed its schema, when it has a readable one. */
function idOf(raw: unknown, key: string): string | undefined {
  const v = (raw as Record<string, unknown> | null)?.[key];
  return typeof v === "string" && UUID.test(v) ? v.toUpperCase() : undefined;
}

/** Checks each entry of a list on its own; returns the valid ones and the refused. */
function checkEach<T>(
  listName: string,
  list: unknown[],
  schema: z.ZodType<T>,
  key: string,
  invalidCode: Refused["code"],
  more: (value: T) => Omit<Refused, "index" | "id"> | undefined,
): { valid: T[]; refused: Refused[] } {
  const valid: T[] = [];
  const refused: Refused[] = [];
  const seen = new Set<string>();
  list.forEach((raw, index) => {
    const r = schema.safeParse(raw);
    if (!r.success) {
      const fields = issuesOf(r.error).map((f) => ({
        ...f,
        path: f.path === "(body)" ? `${listName}.${index}` : `${listName}.${index}.${f.path}`,
      }));
      refused.push({ index, id: idOf(raw, key), code: invalidCode, message: `${fields[0].path} ${fields[0].message}`, fields });
      return;
    }
    const id = String((r.data as Record<string, unknown>)[key]);
    if (seen.has(id)) {
      refused.push({ index, id, code: "duplicate_id", message: `${key} ${id} appears earlier in this request` });
      return;
    }
    seen.add(id);
    const problem = more(r.data);
    if (problem) {
      refused.push({ index, id, ...problem });
      return;
    }
    valid.push(r.data);
  });
  return { valid, refused };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Swift strings are always valid Unicode, and its JSON decoder rejects a lone surrogate. */
function illFormed(values: unknown[]): boolean {
  return values.some((v) => typeof v === "string" && LONE_SURROGATE.test(v));
}

export function parsePiecesRequest(body: unknown): PiecesRequest {
  const env = parseEnvelope(piecesEnvelope, body);
  const sent = checkEach("pieces", env.pieces, pieceSchema, "pieceId", "invalid_piece", (p) => {
    if (illFormed(Object.values(p))) {
      return { code: "invalid_unicode", message: "a text field holds an unpaired UTF-16 surrogate, which is not valid Unicode" };
    }
    const bytes = plainItemBytes({ ...pickContent(p), pieceId: p.pieceId, createdAt: p.createdAt, modifiedAt: p.modifiedAt });
    if (bytes > MAX_PIECE_ITEM_BYTES) {
      return { code: "too_large", message: `the piece takes ${bytes} bytes; a piece can hold at most ${MAX_PIECE_ITEM_BYTES}` };
    }
    return undefined;
  });
  const pieces = sent.valid.map(({ userId: _u, lastSyncedAt: _l, ...p }) => p);
  const ids = new Set(pieces.map((p) => p.pieceId));
  const clash = (env.deletedPieces ?? []).findIndex((d) => ids.has(d.pieceId));
  if (clash >= 0) {
    throw new ValidationError("invalid_request", `deletedPieces.${clash}.pieceId is also in pieces`, [
      { path: `deletedPieces.${clash}.pieceId`, message: "is also in pieces" },
    ]);
  }
  return {
    operation: env.operation,
    lastSyncedAt: env.lastSyncedAt,
    pieces,
    refused: sent.refused,
    protocol: env.protocol,
    cursor: env.cursor,
    limit: env.limit,
    deletedPieces: env.deletedPieces,
  };
}

export function parseSessionsRequest(body: unknown): SessionsRequest {
  const env = parseEnvelope(sessionsEnvelope, body);
  const sent = checkEach("sessions", env.sessions, sessionSchema, "sessionId", "invalid_session", () => undefined);
  return {
    sessions: sent.valid.map(({ userId: _u, ...s }) => s),
    refused: sent.refused,
    protocol: env.protocol,
    cursor: env.cursor,
    limit: env.limit,
  };
}

export { DEFAULT_PAGE_LIMIT } from "../../lib/limits";
