// A simulated iOS device that follows the shipped app's sync rules as
// ../shared/ios-sync-contract.md states them (read off the app's SyncService.swift,
// PieceRepository.swift and PracticeViewModel.swift), talking to any transport (the
// handlers directly, or the local HTTP server). Used by the sync and convergence
// tests and by `npm run bench`. What it copies from the app:
// - versions: +1 at every practice start and favourite toggle on the practice
//   screen (piece marked locally modified); an editor save marks it modified
//   without a bump; a new piece is version 1;
// - lastSyncedAt lives in memory: a cold start (or sign-in) forgets it; it is kept
//   from the pieces response only after /sessions also succeeds, and taken from the
//   device's own clock when syncedAt has no fraction;
// - dates: sent as whole-second UTC; read as the app reads them (syncedAt, and the
//   dates of a piece new to the device or in updatedPieces, only with a fraction);
// - strict decoding: a piece or session missing a required key, or an id that is
//   not an upper-case UUID (the app would make a duplicate), fails the whole sync;
// - sessions: sent once; an end time saved after the session was sent is not sent.
import { randomUUID } from "node:crypto";
import { CONTENT_FIELDS, type Content } from "../../functions/core/merge";
import type { WireSession } from "../../functions/core/sessions";

export type Transport = (route: "/pieces" | "/sessions", body: unknown) => Promise<{ status: number; body: any }>;

/** The content fields the app overwrites from serverPieces: the contract's piece fields less ids, dates and flags. */
export const CONTENT_KEYS = CONTENT_FIELDS;

/** A piece as the app stores it (dates kept at full precision, ISO). */
export interface LocalPiece extends Content {
  pieceId: string;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  lastSyncedAt?: string;
  version: number;
  locallyModified: boolean;
}

/** A session as the app stores it: the answer's shape, dates ISO at full precision. */
export type LocalSession = WireSession;

/** A clock in whole seconds, as the app sends dates. */
export class DeviceClock {
  constructor(public ms = Date.parse("2025-06-18T12:00:00Z")) {}
  tick(seconds = 1) {
    this.ms += seconds * 1000;
    return this.iso();
  }
  iso() {
    return new Date(Math.floor(this.ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
  }
}

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const WITH_FRACTION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:\d{2})$/;
const WITHOUT_FRACTION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;

/** ISO8601DateFormatter with .withFractionalSeconds: a date without a fraction does not parse. */
export function parseWithFraction(s: unknown): number | undefined {
  return typeof s === "string" && WITH_FRACTION.test(s) ? Date.parse(s) : undefined;
}
/** ISO8601DateFormatter without it: a date with a fraction does not parse. */
export function parseWithoutFraction(s: unknown): number | undefined {
  return typeof s === "string" && WITHOUT_FRACTION.test(s) ? Date.parse(s) : undefined;
}
const iso = (ms: number) => new Date(ms).toISOString();
/** Date.distantPast, which the app uses when a server date does not parse. */
const DISTANT_PAST = Date.parse("0001-01-01T00:00:00Z");
/** Date.ISO8601Format(): UTC, whole seconds. */
export function cutToSeconds(date: string): string {
  return new Date(Math.floor(Date.parse(date) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

const REQUIRED_STRINGS = ["pieceId", "userId", "title", "category", "lyrics", "createdAt", "modifiedAt"];
const OPTIONAL_STRINGS = ["language", "englishTranslation", "author", "sourceUrl", "notes", "lastSyncedAt"];

/** The app decodes strictly (PieceSyncData): a piece failing this fails the whole sync. */
export function assertDecodable(p: any) {
  for (const k of REQUIRED_STRINGS) if (typeof p[k] !== "string") throw new Error(`piece lacks string ${k}: ${JSON.stringify(p).slice(0, 200)}`);
  for (const k of OPTIONAL_STRINGS) if (p[k] !== undefined && p[k] !== null && typeof p[k] !== "string") throw new Error(`piece ${k} is not a string`);
  for (const k of ["includeInPractice", "isFavorite", "locallyModified"]) {
    if (typeof p[k] !== "boolean") throw new Error(`piece lacks bool ${k}`);
  }
  if (!Number.isSafeInteger(p.version)) throw new Error("piece lacks integer version");
  if (!UPPER_UUID.test(p.pieceId)) throw new Error(`piece id ${p.pieceId} is not an upper-case UUID: the app would duplicate it`);
}

function assertSessionDecodable(s: any) {
  for (const k of ["sessionId", "userId", "pieceId", "startedAt", "createdAt"]) {
    if (typeof s[k] !== "string") throw new Error(`session lacks ${k}`);
  }
  if (s.endedAt !== undefined && s.endedAt !== null && typeof s.endedAt !== "string") throw new Error("session endedAt is not a string");
}

export class Device {
  pieces = new Map<string, LocalPiece>();
  sessions = new Map<string, { s: LocalSession; synced: boolean }>();
  /** The app's in-memory lastSyncedAt (full precision). */
  lastSyncedAt?: string;
  /** syncedAt of the last pieces response, kept once /sessions succeeds too. */
  private pendingSyncedAt?: string;
  requests = 0;
  /** Per piece, the last version the device took from the server (test bookkeeping, never sent). */
  readonly serverVersion = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly userId: string,
    readonly transport: Transport,
    readonly clock: DeviceClock = new DeviceClock(),
  ) {}

  /** The device's clock (whole seconds; a test clock may be skewed), as a full ISO date. */
  private now(): string {
    return iso(Date.parse(this.clock.iso()));
  }

  createPiece(fields: Partial<LocalPiece> = {}): LocalPiece {
    this.clock.tick();
    const now = this.now();
    const p: LocalPiece = {
      pieceId: randomUUID().toUpperCase(),
      userId: this.userId,
      title: `Mele ${this.pieces.size + 1}`,
      category: "mele",
      lyrics: "Haʻaheo ka ua i nā pali",
      language: "haw",
      includeInPractice: true,
      isFavorite: false,
      createdAt: now,
      modifiedAt: now,
      version: 1,
      locallyModified: true,
      ...fields,
    };
    this.pieces.set(p.pieceId, p);
    return p;
  }

  /** A save in the editor (AddEditPieceView): marked modified, no version bump. */
  edit(pieceId: string, fields: Partial<Pick<LocalPiece, (typeof CONTENT_KEYS)[number]>>) {
    const p = this.piece(pieceId);
    this.clock.tick();
    Object.assign(p, fields, { modifiedAt: this.now(), locallyModified: true });
    for (const k of CONTENT_KEYS) if ((p as any)[k] === undefined || (p as any)[k] === "") delete (p as any)[k];
    if (!p.language) p.language = "haw";
  }

  /** The favourite button on the practice screen (PieceRepository.toggleFavorite): a bump. */
  toggleFavorite(pieceId: string) {
    const p = this.piece(pieceId);
    this.clock.tick();
    Object.assign(p, { isFavorite: !p.isFavorite, modifiedAt: this.now(), locallyModified: true, version: p.version + 1 });
  }

  /**
   * A practice start (PracticeViewModel.startSessionForPiece): the piece's
   * last-practiced date (local only) moves, which bumps its version and marks it
   * modified, and an open session is recorded. `ended`: the session also ends
   * before the next sync.
   */
  recordSession(pieceId: string, ended = true): LocalSession {
    const p = this.pieces.get(pieceId);
    this.clock.tick();
    const start = this.now();
    if (p) Object.assign(p, { modifiedAt: start, locallyModified: true, version: p.version + 1 });
    const s: LocalSession = { sessionId: randomUUID().toUpperCase(), userId: this.userId, pieceId, startedAt: start, createdAt: start };
    if (ended) {
      this.clock.tick(60);
      s.endedAt = this.now();
    }
    this.sessions.set(s.sessionId, { s, synced: false });
    return s;
  }

  /** The session ends (PracticeSession.end): saved locally, not marked unsynced. */
  endSession(sessionId: string) {
    const e = this.sessions.get(sessionId)!;
    this.clock.tick(60);
    e.s.endedAt = this.now();
  }

  /** The app is ended in the background and launched again, or the user signs in again. */
  coldStart() {
    this.lastSyncedAt = undefined;
    this.pendingSyncedAt = undefined;
  }

  private piece(pieceId: string): LocalPiece {
    const p = this.pieces.get(pieceId);
    if (!p) throw new Error(`${this.name} has no piece ${pieceId}`);
    return p;
  }

  /** The request body exactly as SyncService builds it (PieceSyncData; nil optionals left out). */
  piecesBody() {
    const pieces = [...this.pieces.values()].map((p) => {
      const out: Record<string, unknown> = {
        pieceId: p.pieceId,
        userId: this.userId,
        title: p.title,
        category: p.category,
        lyrics: p.lyrics,
        language: p.language ?? "haw",
        includeInPractice: p.includeInPractice,
        isFavorite: p.isFavorite,
        createdAt: cutToSeconds(p.createdAt),
        modifiedAt: cutToSeconds(p.modifiedAt),
        version: p.version,
        locallyModified: p.locallyModified,
      };
      for (const k of ["englishTranslation", "author", "sourceUrl", "notes"] as const) if (p[k] !== undefined) out[k] = p[k];
      if (p.lastSyncedAt) out.lastSyncedAt = cutToSeconds(p.lastSyncedAt);
      return out;
    });
    const body: any = { operation: "sync", pieces };
    if (this.lastSyncedAt) body.lastSyncedAt = cutToSeconds(this.lastSyncedAt);
    return body;
  }

  /** One /pieces request, applying the response by the app's rules (SyncService.syncPieces). */
  async syncPieces(opts: { loseResponse?: boolean } = {}): Promise<{ status: number; body: any }> {
    this.requests++;
    const r = await this.transport("/pieces", this.piecesBody());
    if (r.status !== 200 || opts.loseResponse) return r;
    this.applyPiecesResponse(r.body);
    return r;
  }

  applyPiecesResponse(b: any) {
    if (!Array.isArray(b.serverPieces) || !Array.isArray(b.uploadedPieces) || typeof b.syncedAt !== "string") {
      throw new Error(`${this.name}: response lacks a required key`);
    }
    if (b.updatedPieces !== undefined && b.updatedPieces !== null && !Array.isArray(b.updatedPieces)) throw new Error("updatedPieces is not a list");
    for (const sp of b.serverPieces) assertDecodable(sp);
    for (const up of b.updatedPieces ?? []) assertDecodable(up);
    const listed = new Set<string>();
    for (const sp of b.serverPieces) {
      if (listed.has(sp.pieceId)) throw new Error(`${this.name}: serverPieces lists ${sp.pieceId} twice: the app would create it twice`);
      listed.add(sp.pieceId);
    }
    const now = this.now();
    // 1. serverPieces
    for (const sp of b.serverPieces) {
      const local = this.pieces.get(sp.pieceId);
      if (local) {
        const parsed = parseWithFraction(sp.modifiedAt) ?? parseWithoutFraction(sp.modifiedAt);
        const serverDate = parsed ?? DISTANT_PAST;
        const newer = sp.version > local.version;
        const sameButLater = sp.version === local.version && serverDate > Date.parse(local.modifiedAt) && !local.locallyModified;
        if (newer || sameButLater) {
          for (const k of CONTENT_KEYS) delete (local as any)[k];
          for (const k of CONTENT_KEYS) if (sp[k] !== undefined && sp[k] !== null) (local as any)[k] = sp[k];
          if (!local.language) local.language = "haw";
          local.lastSyncedAt = now;
          local.version = sp.version;
          this.serverVersion.set(sp.pieceId, sp.version);
          // The flag stays as it was; the edit time moves only without local changes.
          if (!local.locallyModified) local.modifiedAt = iso(parsed ?? DISTANT_PAST);
        }
      } else {
        const p: LocalPiece = { pieceId: sp.pieceId, userId: this.userId } as LocalPiece;
        for (const k of CONTENT_KEYS) if (sp[k] !== undefined && sp[k] !== null) (p as any)[k] = sp[k];
        if (!p.language) p.language = "haw";
        // A new Piece gets "now" for both dates unless the server's parse with a fraction.
        p.modifiedAt = iso(parseWithFraction(sp.modifiedAt) ?? Date.parse(now));
        p.createdAt = iso(parseWithFraction(sp.createdAt) ?? Date.parse(now));
        p.lastSyncedAt = now;
        p.locallyModified = false;
        p.version = sp.version;
        this.pieces.set(sp.pieceId, p);
        this.serverVersion.set(sp.pieceId, sp.version);
      }
    }
    // 2. updatedPieces (present, even empty), else 3. uploadedPieces
    if (Array.isArray(b.updatedPieces)) {
      for (const up of b.updatedPieces) {
        const local = this.pieces.get(up.pieceId);
        if (!local) continue;
        local.version = up.version;
        local.lastSyncedAt = now;
        local.locallyModified = false;
        this.serverVersion.set(up.pieceId, up.version);
        const m = parseWithFraction(up.modifiedAt);
        if (m !== undefined) local.modifiedAt = iso(m);
      }
    } else {
      for (const id of b.uploadedPieces) {
        const local = this.pieces.get(id);
        if (local && local.locallyModified) {
          local.lastSyncedAt = now;
          local.locallyModified = false;
        }
      }
    }
    this.pendingSyncedAt = b.syncedAt;
  }

  /** One /sessions request (SyncService.syncSessions); on success the pieces' syncedAt is kept. */
  async syncSessions(opts: { loseResponse?: boolean } = {}): Promise<{ status: number; body: any }> {
    this.requests++;
    const pending = [...this.sessions.values()].filter((e) => !e.synced).map((e) => e.s);
    const body = {
      sessions: pending.map((s) => {
        const out: Record<string, unknown> = {
          sessionId: s.sessionId,
          userId: this.userId,
          pieceId: s.pieceId,
          startedAt: cutToSeconds(s.startedAt),
          createdAt: cutToSeconds(s.startedAt),
        };
        if (s.endedAt) out.endedAt = cutToSeconds(s.endedAt);
        return out;
      }),
    };
    const r = await this.transport("/sessions", body);
    if (r.status !== 200 || opts.loseResponse) return r;
    const b = r.body;
    if (!Array.isArray(b.uploadedSessions) || typeof b.syncedAt !== "string") throw new Error(`${this.name}: sessions response lacks a required key`);
    for (const s of b.serverSessions ?? []) assertSessionDecodable(s);
    for (const id of b.uploadedSessions) {
      const e = this.sessions.get(id);
      if (e && pending.includes(e.s)) e.synced = true;
    }
    for (const s of b.serverSessions ?? []) {
      if (this.sessions.has(s.sessionId)) continue;
      // The start parses with a fraction or without; the end only in the form that worked for the start.
      const frac = parseWithFraction(s.startedAt);
      const start = frac ?? parseWithoutFraction(s.startedAt) ?? Date.parse(this.now());
      const end = s.endedAt ? (frac !== undefined ? parseWithFraction(s.endedAt) : parseWithoutFraction(s.endedAt)) : undefined;
      const local: LocalSession = { sessionId: s.sessionId, userId: this.userId, pieceId: s.pieceId, startedAt: iso(start), createdAt: iso(start) };
      if (end !== undefined) local.endedAt = iso(end);
      this.sessions.set(s.sessionId, { s: local, synced: true });
    }
    this.keepSyncedAt();
    return r;
  }

  /**
   * What the app does once /sessions has succeeded after /pieces (SyncService.syncNow):
   * lastSyncedAt from the pieces response's syncedAt if it parses with a fraction, else
   * the device's clock. The bench, which measures /pieces alone, calls it directly.
   */
  keepSyncedAt() {
    if (this.pendingSyncedAt !== undefined) {
      const at = parseWithFraction(this.pendingSyncedAt);
      this.lastSyncedAt = iso(at ?? Date.parse(this.now()));
      this.pendingSyncedAt = undefined;
    }
  }

  /** SyncService.syncNow: pieces, then sessions; stops at the first failure. */
  async syncNow(opts: { losePiecesResponse?: boolean; loseSessionsResponse?: boolean } = {}) {
    const a = await this.syncPieces({ loseResponse: opts.losePiecesResponse });
    if (a.status !== 200 || opts.losePiecesResponse) return { pieces: a };
    const b = await this.syncSessions({ loseResponse: opts.loseSessionsResponse });
    return { pieces: a, sessions: b };
  }

  /** Syncs until the server sends nothing more and nothing is pending (bounded). */
  async syncUntilQuiet(max = 50) {
    for (let i = 0; i < max; i++) {
      const { pieces, sessions } = await this.syncNow();
      if (pieces.status !== 200 || sessions?.status !== 200) {
        throw new Error(`${this.name}: sync failed ${pieces.status}/${sessions?.status} ${JSON.stringify(pieces.body)}`);
      }
      const modified = [...this.pieces.values()].some((p) => p.locallyModified);
      if (pieces.body.serverPieces.length === 0 && !modified) return i + 1;
    }
    throw new Error(`${this.name}: still receiving after ${max} syncs`);
  }

  content(pieceId: string) {
    const p = this.pieces.get(pieceId);
    if (!p) return undefined;
    const out: any = {};
    for (const k of CONTENT_KEYS) if (p[k] !== undefined) out[k] = p[k];
    return out;
  }
}
