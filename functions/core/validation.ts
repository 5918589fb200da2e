// Request schemas for /pieces and /sessions (zod), and the one function that turns
// a raw body into a typed request or a ValidationError listing every bad field.
// The field lists follow ../shared/ios-sync-contract.md; unknown keys are ignored
// so a newer app can add fields without breaking an older server.
import { z } from "zod";
import {
  DEFAULT_PAGE_LIMIT,
  MAX_PAGE_LIMIT,
  MAX_PIECES_PER_REQUEST,
  MAX_SESSIONS_PER_REQUEST,
  MAX_SHORT_TEXT_CHARS,
  MAX_TEXT_BYTES,
  MAX_TITLE_CHARS,
} from "../../lib/limits";
import { FieldIssue, ValidationError } from "./errors";

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Opaque cursor: base64url of a change key. */
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

/** Extension fields are refused unless the request opted in with "protocol": 2. */
function protocol2Only(r: Record<string, unknown>, keys: string[], ctx: z.RefinementCtx) {
  if (r.protocol === 2) return;
  for (const k of keys) if (r[k] !== undefined) ctx.addIssue({ code: "custom", path: [k], message: 'needs "protocol": 2' });
}

/** One request may not carry the same id twice (ids compare case-insensitively). */
function uniqueIds<T extends Record<string, any>>(items: T[], list: string, key: keyof T & string, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  items.forEach((it, i) => {
    const id = String(it[key]).toUpperCase();
    if (seen.has(id)) ctx.addIssue({ code: "custom", path: [list, i, key], message: "appears twice" });
    seen.add(id);
  });
}

const uuid = z.string().regex(UUID, "must be a UUID");
const isoDate = z
  .string()
  .regex(ISO_DATE, "must be an ISO-8601 date-time, e.g. 2025-06-18T12:34:56Z")
  .refine((s) => !Number.isNaN(Date.parse(s)), "is not a real date");
const utf8Max = (bytes: number) =>
  z.string().refine((s) => Buffer.byteLength(s, "utf8") <= bytes, `must be at most ${bytes / 1024} KB`);
const shortText = z.string().max(MAX_SHORT_TEXT_CHARS);
const version = z.number().int().min(0).max(2 ** 31 - 1);

export const pieceSchema = z.object({
  pieceId: uuid,
  userId: z.string().max(200).optional(),
  title: z.string().max(MAX_TITLE_CHARS),
  category: z.enum(["oli", "mele"]),
  lyrics: utf8Max(MAX_TEXT_BYTES),
  language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, "must be an ISO 639 code").optional(),
  englishTranslation: utf8Max(MAX_TEXT_BYTES).optional(),
  author: shortText.optional(),
  sourceUrl: shortText.optional(),
  notes: utf8Max(MAX_TEXT_BYTES).optional(),
  includeInPractice: z.boolean(),
  isFavorite: z.boolean(),
  createdAt: isoDate,
  modifiedAt: isoDate,
  lastSyncedAt: isoDate.optional(),
  version,
  locallyModified: z.boolean(),
});
export type PieceInput = z.infer<typeof pieceSchema>;

/** Opt-in protocol 2 (README, "Extensions"): paging, deletes, conflict report. */
const deletedPieceSchema = z.object({
  pieceId: uuid,
  version,
  deletedAt: isoDate.optional(),
});

export const piecesRequestSchema = z
  .object({
    operation: z.enum(["sync", "upload", "download"], { message: 'must be "sync", "upload" or "download"' }),
    lastSyncedAt: isoDate.optional(),
    pieces: z.array(pieceSchema).max(MAX_PIECES_PER_REQUEST, `at most ${MAX_PIECES_PER_REQUEST} pieces per request`),
    protocol: z.literal(2).optional(),
    cursor: z.string().regex(CURSOR, "is not a cursor this server issued").optional(),
    limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
    deletedPieces: z.array(deletedPieceSchema).max(MAX_PIECES_PER_REQUEST).optional(),
  })
  .superRefine((r, ctx) => {
    protocol2Only(r, ["cursor", "limit", "deletedPieces"], ctx);
    uniqueIds(r.pieces, "pieces", "pieceId", ctx);
    uniqueIds(r.deletedPieces ?? [], "deletedPieces", "pieceId", ctx);
    // A piece is either sent or deleted in one request, never both.
    const sent = new Set(r.pieces.map((p) => p.pieceId.toUpperCase()));
    (r.deletedPieces ?? []).forEach((d, i) => {
      if (sent.has(d.pieceId.toUpperCase())) {
        ctx.addIssue({ code: "custom", path: ["deletedPieces", i, "pieceId"], message: "is also in pieces" });
      }
    });
  });
export type PiecesRequest = z.infer<typeof piecesRequestSchema>;

export const sessionSchema = z.object({
  sessionId: uuid,
  userId: z.string().max(200).optional(),
  pieceId: uuid,
  startedAt: isoDate,
  endedAt: isoDate.optional(),
  createdAt: isoDate,
});
export type SessionInput = z.infer<typeof sessionSchema>;

export const sessionsRequestSchema = z
  .object({
    sessions: z
      .array(sessionSchema)
      .max(MAX_SESSIONS_PER_REQUEST, `at most ${MAX_SESSIONS_PER_REQUEST} sessions per request`),
    protocol: z.literal(2).optional(),
    cursor: z.string().regex(CURSOR, "is not a cursor this server issued").optional(),
    limit: z.number().int().min(1).max(MAX_PAGE_LIMIT).optional(),
  })
  .superRefine((r, ctx) => {
    protocol2Only(r, ["cursor", "limit"], ctx);
    uniqueIds(r.sessions, "sessions", "sessionId", ctx);
  });
export type SessionsRequest = z.infer<typeof sessionsRequestSchema>;

export { DEFAULT_PAGE_LIMIT };

const MAX_REPORTED_ISSUES = 20;

/** Parses `body` with `schema` or throws a 400 ValidationError naming the fields. */
export function parseRequest<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const fields: FieldIssue[] = r.error.issues.slice(0, MAX_REPORTED_ISSUES).map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: i.message,
  }));
  // Too many pieces or sessions, not any top-level number too big (a "limit" of a million is invalid_request).
  const tooMany = r.error.issues.find((i) => i.code === "too_big" && i.path.length === 1 && (i as { origin?: string }).origin === "array");
  if (tooMany) {
    throw new ValidationError("too_many_items", `${String(tooMany.path[0])}: ${tooMany.message}`, fields);
  }
  const first = fields[0];
  throw new ValidationError(
    "invalid_request",
    `${r.error.issues.length} invalid field${r.error.issues.length === 1 ? "" : "s"}; first: ${first.path} ${first.message}`,
    fields,
  );
}
