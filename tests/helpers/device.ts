// A simulated iOS device that follows the shipped app's sync rules exactly as
// ../shared/ios-sync-contract.md states them, talking to any transport (the
// handlers directly, or the local HTTP server). Used by the sync and convergence
// tests.
import { randomUUID } from "node:crypto";
import { CONTENT_FIELDS, type Content } from "../../functions/core/merge";
import type { WireSession } from "../../functions/core/sessions";

export type Transport = (route: "/pieces" | "/sessions", body: unknown) => Promise<{ status: number; body: any }>;

/** The content fields the app overwrites from serverPieces: the contract's piece fields less ids, dates and flags. */
export const CONTENT_KEYS = CONTENT_FIELDS;

/** A piece as the app stores it: the contract's fields. */
export interface LocalPiece extends Content {
  pieceId: string;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  lastSyncedAt?: string;
  version: number;
  locallyModified: boolean;
}

/** A session as the app stores it: the same shape the server answers. */
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

const REQUIRED = ["pieceId", "userId", "title", "category", "lyrics", "createdAt", "modifiedAt"];

/** The app decodes strictly: a piece missing any of these fails the whole sync. */
export function assertDecodable(p: any) {
  for (const k of REQUIRED) if (typeof p[k] !== "string") throw new Error(`piece lacks string ${k}: ${JSON.stringify(p).slice(0, 200)}`);
  for (const k of ["includeInPractice", "isFavorite", "locallyModified"]) {
    if (typeof p[k] !== "boolean") throw new Error(`piece lacks bool ${k}`);
  }
  if (!Number.isInteger(p.version)) throw new Error("piece lacks integer version");
}

export class Device {
  pieces = new Map<string, LocalPiece>();
  sessions = new Map<string, { s: LocalSession; synced: boolean }>();
  lastSyncedAt?: string;
  requests = 0;

  constructor(
    readonly name: string,
    readonly userId: string,
    readonly transport: Transport,
    readonly clock: DeviceClock = new DeviceClock(),
  ) {}

  createPiece(fields: Partial<LocalPiece> = {}): LocalPiece {
    const now = this.clock.tick();
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

  edit(pieceId: string, fields: Partial<Pick<LocalPiece, (typeof CONTENT_KEYS)[number]>>) {
    const p = this.pieces.get(pieceId);
    if (!p) throw new Error(`${this.name} has no piece ${pieceId}`);
    Object.assign(p, fields, { modifiedAt: this.clock.tick(), locallyModified: true });
    for (const k of CONTENT_KEYS) if ((p as any)[k] === undefined || (p as any)[k] === "") delete (p as any)[k];
  }

  recordSession(pieceId: string, ended = true): LocalSession {
    const start = this.clock.tick();
    const s: LocalSession = { sessionId: randomUUID().toUpperCase(), userId: this.userId, pieceId, startedAt: start, createdAt: start };
    if (ended) s.endedAt = this.clock.tick(60);
    this.sessions.set(s.sessionId, { s, synced: false });
    return s;
  }

  endSession(sessionId: string) {
    const e = this.sessions.get(sessionId)!;
    e.s.endedAt = this.clock.tick(60);
    e.synced = false;
  }

  piecesBody() {
    const body: any = { operation: "sync", pieces: [...this.pieces.values()].map((p) => ({ ...p })) };
    if (this.lastSyncedAt) body.lastSyncedAt = cutToSeconds(this.lastSyncedAt);
    return body;
  }

  /** One /pieces sync, applying the response by the app's rules. */
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
    for (const sp of b.serverPieces) assertDecodable(sp);
    for (const up of b.updatedPieces ?? []) assertDecodable(up);
    // 1. serverPieces
    for (const sp of b.serverPieces) {
      const local = this.pieces.get(sp.pieceId);
      if (local) {
        const newer = sp.version > local.version;
        const sameButLater =
          sp.version === local.version && Date.parse(sp.modifiedAt) > Date.parse(local.modifiedAt) && !local.locallyModified;
        if (newer || sameButLater) {
          for (const k of CONTENT_KEYS) delete (local as any)[k];
          for (const k of CONTENT_KEYS) if (sp[k] !== undefined) (local as any)[k] = sp[k];
          local.version = sp.version;
        }
      } else {
        const p: LocalPiece = { ...sp, locallyModified: false };
        this.pieces.set(sp.pieceId, p);
      }
    }
    // 2. updatedPieces
    if (b.updatedPieces) {
      for (const up of b.updatedPieces) {
        const local = this.pieces.get(up.pieceId);
        if (!local) continue;
        local.version = up.version;
        local.locallyModified = false;
        local.modifiedAt = up.modifiedAt;
      }
    } else {
      // 3.
      for (const id of b.uploadedPieces) {
        const local = this.pieces.get(id);
        if (local) local.locallyModified = false;
      }
    }
    // 4.
    this.lastSyncedAt = b.syncedAt;
  }

  async syncSessions(opts: { loseResponse?: boolean } = {}): Promise<{ status: number; body: any }> {
    this.requests++;
    const pending = [...this.sessions.values()].filter((e) => !e.synced).map((e) => ({ ...e.s }));
    const r = await this.transport("/sessions", { sessions: pending });
    if (r.status !== 200 || opts.loseResponse) return r;
    const sentEnd = new Map(pending.map((s) => [s.sessionId, s.endedAt]));
    for (const id of r.body.uploadedSessions) {
      const e = this.sessions.get(id);
      // A session ended after this request was sent still needs sending.
      if (e && e.s.endedAt === sentEnd.get(id)) e.synced = true;
    }
    for (const s of r.body.serverSessions ?? []) {
      for (const k of ["sessionId", "userId", "pieceId", "startedAt", "createdAt"]) {
        if (typeof s[k] !== "string") throw new Error(`session lacks ${k}`);
      }
      if (!this.sessions.has(s.sessionId)) this.sessions.set(s.sessionId, { s: { ...s }, synced: true });
    }
    return r;
  }

  /** Syncs pieces until the server says nothing more (bounded). */
  async syncUntilQuiet(max = 50) {
    for (let i = 0; i < max; i++) {
      const before = this.lastSyncedAt;
      const r = await this.syncPieces();
      if (r.status !== 200) throw new Error(`${this.name}: sync failed ${r.status} ${JSON.stringify(r.body)}`);
      if (r.body.serverPieces.length === 0 && before === this.lastSyncedAt) return i + 1;
      if (r.body.serverPieces.length === 0 && ![...this.pieces.values()].some((p) => p.locallyModified)) return i + 1;
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

export function cutToSeconds(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}
