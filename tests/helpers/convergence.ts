// The convergence property of issue 5, shared by tests/convergence*.test.ts:
// generated steps (simulated devices of one user creating, editing, recording
// sessions and syncing, with faults on the network and on the real DynamoDB
// client), a runner that drives the real route handlers, and the oracle that
// checks the end state. Kept in one place so each suite only picks its mix and
// its number of cases.
//
// The oracle, in short (details at checkAcknowledged):
// - every text value an edit or a creation writes is unique ("title~17"), so a
//   final value names the edit that produced it, and each unique value records
//   the value it replaced on the device that wrote it (its parent);
// - an acknowledgement is a piece listed in updatedPieces: the server says it
//   holds exactly what the device sent, at that version and modifiedAt;
// - the devices behave like the shipped app (tests/helpers/device.ts): practice
//   starts and favourite toggles bump the local version, cold starts forget
//   lastSyncedAt, dates are read as the app reads them; so a push's base is the
//   last version the device took from the server, not the version it sends;
// - at the end, each acknowledged field value must still be there, or have been
//   replaced by a value written by someone who had seen it (a descendant), or by a
//   conflicting value the documented rule lets win: pushed with a modifiedAt at
//   least the edit time of the acknowledged value (when a push first changed the
//   field to it), and either changed since the pushing device's base
//   (three-way merge) or pushed from a base the server no longer knows for
//   that field (FIELD_HISTORY_DEPTH values back, or none).
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { FIELD_HISTORY_DEPTH } from "../../lib/limits";
import { SYNC_STATE_KEY } from "../../lib/tables";
import { CONTENT_KEYS, Device, DeviceClock, LocalPiece, Transport } from "./device";
import { FaultKind, FaultyClient, withFaults } from "./faults";
import { createHarness, Harness } from "./sync-harness";

// ---- steps ------------------------------------------------------------------

export type NetFault = "lost-request" | "lost-response";
export type DbCommand = "GetCommand" | "BatchGetCommand" | "QueryCommand" | "TransactWriteCommand" | "PutCommand";
export type Fault =
  | { net: NetFault }
  | { db: Exclude<FaultKind, "fail">; command: DbCommand; times: number }
  | undefined;

export type EditField = "title" | "lyrics" | "notes" | "author" | "language" | "clear-notes" | "favorite" | "practice" | "category";

export type Step =
  | { k: "create"; d: number; notes: boolean }
  | { k: "edit"; d: number; p: number; fields: EditField[] }
  | { k: "record"; d: number; p: number; ended: boolean }
  | { k: "end"; d: number; s: number }
  /** A favourite toggle on the practice screen: a local version bump. */
  | { k: "favorite"; d: number; p: number }
  /** iOS ended the app in the background; it launches again (lastSyncedAt forgotten). */
  | { k: "coldStart"; d: number }
  /** The app's sync: /pieces then /sessions; a network fault hits the request `on`. */
  | { k: "sync"; d: number; on: "pieces" | "sessions"; fault: Fault }
  /** Every device syncs at once (fault, if any, on device d's pieces request / on the shared client). */
  | { k: "syncAll"; d: number; fault: Fault };

export interface Case {
  devices: number;
  /** Clock offset of each device from the shared clock, seconds. */
  skews: number[];
  steps: Step[];
}

function faultText(f: Fault): string {
  if (!f) return "";
  if ("net" in f) return ` [${f.net}]`;
  return ` [db ${f.db} ${f.command.replace("Command", "")} x${f.times}]`;
}

export function stepText(s: Step): string {
  switch (s.k) {
    case "create":
      return `d${s.d}.create(${s.notes ? "with notes" : ""})`;
    case "edit":
      return `d${s.d}.edit(piece ${s.p}: ${s.fields.join(",")})`;
    case "record":
      return `d${s.d}.record(piece ${s.p}${s.ended ? ", ended" : ", open"})`;
    case "end":
      return `d${s.d}.end(own open session ${s.s})`;
    case "favorite":
      return `d${s.d}.toggleFavorite(piece ${s.p}, practice screen: version +1)`;
    case "coldStart":
      return `d${s.d}.coldStart()`;
    case "sync":
      return `d${s.d}.sync${s.fault && "net" in s.fault ? ` [${s.fault.net} on /${s.on}]` : faultText(s.fault)}`;
    case "syncAll":
      return `all.sync concurrently${faultText(s.fault)}${s.fault && "net" in s.fault ? ` on d${s.d}` : ""}`;
  }
}

/** fast-check prints values through this symbol: a failure shows readable steps. */
const printable = <T extends object>(v: T, text: () => string): T =>
  Object.defineProperty(v, fc.toStringMethod, { value: text, enumerable: false });

export function caseText(c: Case): string {
  const lines = c.steps.map((s, i) => `  ${String(i + 1).padStart(2)}. ${stepText(s)}`);
  return `\n${c.devices} devices, clock skews ${JSON.stringify(c.skews)} s\n${lines.join("\n")}\n`;
}

export interface ArbOptions {
  minSteps: number;
  maxSteps: number;
  /** Weight of concurrent syncs (0: strictly sequential). */
  concurrent: number;
}

/** maxAttempts of the store under test (kept small so exhausting it is cheap). */
export const STORE_MAX_ATTEMPTS = 4;

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom<NetFault>("lost-request", "lost-response").map((net) => ({ net })) },
  {
    weight: 1,
    arbitrary: fc.record({
      db: fc.constant("throttle" as const),
      command: fc.constantFrom<DbCommand>("GetCommand", "BatchGetCommand", "QueryCommand", "TransactWriteCommand", "PutCommand"),
      times: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ db: fc.constant("txn-throttle" as const), command: fc.constant<DbCommand>("TransactWriteCommand"), times: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ db: fc.constant("unprocessed" as const), command: fc.constant<DbCommand>("BatchGetCommand"), times: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ db: fc.constant("crash-after" as const), command: fc.constant<DbCommand>("TransactWriteCommand"), times: fc.constant(1) }),
  },
  // More throttles than the store's attempts: the request fails (503), nothing acknowledged.
  {
    weight: 1,
    arbitrary: fc.record({
      db: fc.constant("throttle" as const),
      command: fc.constantFrom<DbCommand>("TransactWriteCommand", "BatchGetCommand"),
      times: fc.constant(STORE_MAX_ATTEMPTS),
    }),
  },
);

export function caseArb(o: ArbOptions): fc.Arbitrary<Case> {
  return fc.integer({ min: 2, max: 4 }).chain((devices) => {
    const d = fc.integer({ min: 0, max: devices - 1 });
    const ix = fc.nat({ max: 7 });
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 2, arbitrary: fc.record({ k: fc.constant("create" as const), d, notes: fc.boolean() }) },
      {
        weight: 6,
        arbitrary: fc.record({
          k: fc.constant("edit" as const),
          d,
          p: ix,
          fields: fc.uniqueArray(
            fc.constantFrom<EditField>("title", "lyrics", "notes", "author", "language", "clear-notes", "favorite", "practice", "category"),
            { minLength: 1, maxLength: 3 },
          ),
        }),
      },
      { weight: 3, arbitrary: fc.record({ k: fc.constant("record" as const), d, p: ix, ended: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("end" as const), d, s: ix }) },
      { weight: 2, arbitrary: fc.record({ k: fc.constant("favorite" as const), d, p: ix }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant("coldStart" as const), d }) },
      {
        weight: 7,
        arbitrary: fc.record({ k: fc.constant("sync" as const), d, on: fc.constantFrom<"pieces" | "sessions">("pieces", "pieces", "sessions"), fault: faultArb }),
      },
      ...(o.concurrent > 0
        ? [{ weight: o.concurrent, arbitrary: fc.record({ k: fc.constant("syncAll" as const), d, fault: faultArb }) }]
        : []),
    );
    return fc.record({
      devices: fc.constant(devices),
      skews: fc.array(fc.constantFrom(0, 0, 0, 30, -30, 7200), { minLength: devices, maxLength: devices }),
      steps: fc.array(step.map((s) => printable(s, () => stepText(s))), { minLength: o.minSteps, maxLength: o.maxSteps }),
    });
  }).map((c) => printable(c, () => caseText(c)));
}

// ---- figures ----------------------------------------------------------------

export interface Figures {
  cases: number;
  steps: number;
  requests: number;
  faults: Record<string, number>;
  /** Responses other than 200 while faults were on (5xx from the handler, or lost on the network). */
  failedRequests: number;
  concurrentSyncs: number;
  acknowledgements: number;
  /** Acknowledged field values checked at the end, and how each was accounted for. */
  checked: number;
  kept: number;
  replacedByLaterEdit: number;
  replacedByConflictRule: number;
  quiesceRounds: number;
  piecesCompared: number;
  sessionsCompared: number;
}

export function newFigures(): Figures {
  return {
    cases: 0,
    steps: 0,
    requests: 0,
    faults: { "lost-request": 0, "lost-response": 0, throttle: 0, "txn-throttle": 0, unprocessed: 0, "crash-after": 0, "throttle-exhausted": 0 },
    failedRequests: 0,
    concurrentSyncs: 0,
    acknowledgements: 0,
    checked: 0,
    kept: 0,
    replacedByLaterEdit: 0,
    replacedByConflictRule: 0,
    quiesceRounds: 0,
    piecesCompared: 0,
    sessionsCompared: 0,
  };
}

/** The suite's one-line summary; `ms` undefined means the property failed. */
export function figuresLine(label: string, f: Figures, ms: number | undefined): string {
  const faults = Object.entries(f.faults)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const total = Object.values(f.faults).reduce((a, b) => a + b, 0);
  return (
    `${label}: ${ms === undefined ? "FAILED (see the counterexample) after " : ""}${f.cases} cases, ${f.steps} steps, ` +
    `${f.requests} requests (${f.concurrentSyncs} concurrent syncs)${ms === undefined ? "" : ` in ${(ms / 1000).toFixed(1)} s`}; ` +
    `faults injected ${total} (${faults}); ${f.failedRequests} requests failed under faults; ` +
    `${f.acknowledgements} acknowledgements, ${f.checked} acknowledged field values checked: ${f.kept} kept, ` +
    `${f.replacedByLaterEdit} replaced by a later edit, ${f.replacedByConflictRule} by the conflict rule, ${ms === undefined ? "not all accounted for" : "0 lost"}; ` +
    `${f.piecesCompared} pieces and ${f.sessionsCompared} sessions compared device-to-server`
  );
}

// ---- runner -----------------------------------------------------------------

type Content = Record<string, unknown>;

const norm = (v: unknown) => (v === "" || v === null ? undefined : v);
const same = (a: unknown, b: unknown) => norm(a) === norm(b);
export function contentOf(p: Record<string, any>): Content {
  const out: Content = {};
  for (const k of CONTENT_KEYS) if (norm(p[k]) !== undefined) out[k] = p[k];
  return out;
}
const sameContent = (a: Content, b: Content) => CONTENT_KEYS.every((k) => same(a[k], b[k]));

/** A device's clock: the shared clock of the case, shifted by its skew. */
class SkewedClock extends DeviceClock {
  constructor(
    private readonly base: DeviceClock,
    private readonly offsetMs: number,
  ) {
    super();
  }
  tick(seconds = 1) {
    this.base.tick(seconds);
    return this.iso();
  }
  iso() {
    return new Date(Math.floor((this.base.ms + this.offsetMs) / 1000) * 1000).toISOString().replace(".000Z", "Z");
  }
}

interface Push {
  device: string;
  pieceId: string;
  version: number;
  /** The last version the device took from the server for this piece (its base), if any. */
  base?: number;
  modifiedAt: string;
  content: Content;
}

interface Ack {
  device: string;
  pieceId: string;
  version: number;
  modifiedAt: string;
  content: Content;
}

export interface Env {
  h: Harness;
  faults: FaultyClient;
  figures: Figures;
  label: string;
}

class CaseFailure extends Error {
  readonly name = "CaseFailure";
}
function fail(msg: string): never {
  throw new CaseFailure(msg);
}

let caseCounter = 0;

export class CaseRun {
  readonly user: string;
  readonly devices: Device[];
  private readonly clock = new DeviceClock();
  private tokenSeq = 0;
  /** Unique value -> the value it replaced on the device that wrote it. */
  private readonly parent = new Map<string, string | undefined>();
  private readonly pushes: Push[] = [];
  private readonly acks: Ack[] = [];
  /** pieceId@version -> the content the server said it holds at that version. */
  private readonly atVersion = new Map<string, Content>();
  private readonly created = new Set<string>();
  /** sessionId -> creator and the end time it last set. */
  private readonly recorded = new Map<string, { device: string; endedAt?: string }>();
  /** sessionId -> end times sent in requests that reached the server, and those answered 200. */
  private readonly sentEnds = new Map<string, { sent: Set<number>; acked: number[] }>();
  private readonly netFault = new Map<string, { net: NetFault; on: string }>();
  private faultsOn = true;

  constructor(
    private readonly env: Env,
    private readonly c: Case,
  ) {
    this.dbBefore = { ...env.faults.injected };
    this.user = `conv-${env.label}-${++caseCounter}-${Math.random().toString(36).slice(2, 8)}`;
    this.devices = Array.from(
      { length: c.devices },
      (_, i) => new Device(`d${i}`, this.user, this.transport(`d${i}`), new SkewedClock(this.clock, (c.skews[i] ?? 0) * 1000)),
    );
  }

  private token(field: string): string {
    const n = ++this.tokenSeq;
    return field === "language" ? `haw-t${n}` : `${field}~${n}`;
  }

  private transport(device: string): Transport {
    const real = this.env.h.transport(this.user);
    return async (route, body: any) => {
      const f = this.env.figures;
      const armed = this.netFault.get(device);
      const fault = armed && armed.on === route ? armed.net : undefined;
      if (fault) this.netFault.delete(device);
      if (fault === "lost-request") {
        f.faults["lost-request"]++;
        f.failedRequests++;
        return { status: 0, body: undefined };
      }
      f.requests++;
      const dev = this.devices.find((x) => x.name === device)!;
      if (route === "/pieces") {
        for (const p of body.pieces as LocalPiece[]) {
          if (p.locallyModified) {
            const base = dev.serverVersion.get(p.pieceId);
            this.pushes.push({ device, pieceId: p.pieceId, version: p.version, base, modifiedAt: p.modifiedAt, content: contentOf(p) });
          }
        }
      } else {
        for (const s of body.sessions) {
          if (!s.endedAt) continue;
          const e = this.sentEnds.get(s.sessionId) ?? { sent: new Set<number>(), acked: [] };
          e.sent.add(Date.parse(s.endedAt));
          this.sentEnds.set(s.sessionId, e);
        }
      }
      const r = await real(route, body);
      if (r.status !== 200) {
        if (!this.faultsOn) fail(`${device} ${route}: ${r.status} ${JSON.stringify(r.body)} with faults off`);
        if (r.status < 500) fail(`${device} ${route}: ${r.status} ${JSON.stringify(r.body)}: a fault must never look like bad input`);
        if (typeof r.body?.error?.code !== "string") fail(`${device} ${route}: ${r.status} without an error code`);
        f.failedRequests++;
        return r;
      }
      if (route === "/pieces") this.observePieces(device, body, r.body);
      else this.observeSessions(device, body, r.body);
      if (fault === "lost-response") {
        f.faults["lost-response"]++;
        f.failedRequests++;
        return { status: 0, body: undefined };
      }
      return r;
    };
  }

  private noteVersion(pieceId: string, version: number, content: Content, where: string) {
    const key = `${pieceId}@${version}`;
    const prev = this.atVersion.get(key);
    if (prev && !sameContent(prev, content)) {
      fail(`two contents for ${key} (${where}): ${JSON.stringify(prev)} vs ${JSON.stringify(content)}`);
    }
    if (!prev) this.atVersion.set(key, content);
  }

  private observePieces(device: string, req: any, res: any) {
    const sent = new Map<string, LocalPiece>((req.pieces as LocalPiece[]).map((p) => [p.pieceId, p]));
    const dup = (ids: string[], what: string) => {
      if (new Set(ids).size !== ids.length) fail(`${device}: duplicate ids in ${what}: ${ids.join(",")}`);
    };
    const updated: any[] = res.updatedPieces ?? [];
    dup(res.serverPieces.map((p: any) => p.pieceId), "serverPieces");
    dup(updated.map((p) => p.pieceId), "updatedPieces");
    dup(res.uploadedPieces, "uploadedPieces");
    if ([...res.uploadedPieces].sort().join() !== updated.map((p) => p.pieceId).sort().join()) {
      fail(`${device}: uploadedPieces and updatedPieces name different pieces`);
    }
    const listed = new Set<string>();
    for (const u of updated) {
      const s = sent.get(u.pieceId);
      if (!s) fail(`${device}: updatedPieces lists ${u.pieceId}, which it did not send`);
      // The app takes a piece listed here to hold exactly what it sent.
      if (!sameContent(contentOf(u), contentOf(s))) {
        fail(`${device}: updatedPieces ${u.pieceId} differs from what was sent: ${JSON.stringify(contentOf(u))} vs ${JSON.stringify(contentOf(s))}`);
      }
      const base = this.devices.find((x) => x.name === device)!.serverVersion.get(u.pieceId);
      if (base !== undefined && u.version < base) fail(`${device}: updatedPieces ${u.pieceId} version went down from its base ${base} -> ${u.version}`);
      this.noteVersion(u.pieceId, u.version, contentOf(u), "updatedPieces");
      this.acks.push({ device, pieceId: u.pieceId, version: u.version, modifiedAt: u.modifiedAt, content: contentOf(s) });
      this.env.figures.acknowledgements++;
      listed.add(u.pieceId);
    }
    const server = new Map<string, any>(res.serverPieces.map((p: any) => [p.pieceId, p]));
    for (const sp of res.serverPieces) this.noteVersion(sp.pieceId, sp.version, contentOf(sp), "serverPieces");
    for (const p of sent.values()) {
      if (!p.locallyModified || listed.has(p.pieceId)) continue;
      // Rejected or merged: the contract needs the winner, newer than the device's copy.
      const w = server.get(p.pieceId);
      if (!w || w.version <= p.version) {
        fail(`${device}: pushed ${p.pieceId}@${p.version} is neither acknowledged nor answered with a newer version (${w ? w.version : "absent"})`);
      }
      this.checkRejected(device, p, w);
    }
  }

  /**
   * A pushed edit answered with the server's copy instead of an acknowledgement:
   * every field the device changed from its base must be in that copy, unless the
   * documented rule let another change of the same field win (a push that changed
   * the field, with an edit time at least the device's), or the server could no
   * longer know the device's base for that field.
   */
  private checkRejected(device: string, sent: LocalPiece, winner: any) {
    const base = this.devices.find((x) => x.name === device)!.serverVersion.get(sent.pieceId);
    if (base === undefined) return;
    const baseContent = this.atVersion.get(`${sent.pieceId}@${base}`);
    if (!baseContent) return;
    const mine = contentOf(sent);
    const theirs = contentOf(winner);
    for (const f of CONTENT_KEYS) {
      if (same(mine[f], baseContent[f]) || same(mine[f], theirs[f])) continue;
      const explained = this.pushes.some((q) => {
        if (q.pieceId !== sent.pieceId || !same(q.content[f], theirs[f])) return false;
        if (Date.parse(q.modifiedAt) < Date.parse(sent.modifiedAt)) return false;
        const qBase = q.base === undefined ? undefined : this.atVersion.get(`${q.pieceId}@${q.base}`);
        return !qBase || !same(qBase[f], theirs[f]);
      });
      if (explained || this.valuesSince(sent.pieceId, f, base) >= FIELD_HISTORY_DEPTH) continue;
      fail(
        `${device}: its edit ${f}=${JSON.stringify(mine[f])} of ${sent.pieceId} (from v${base}, modifiedAt ${sent.modifiedAt}) was rejected for ` +
          `${JSON.stringify(theirs[f])} (v${winner.version}) with no later conflicting edit to explain it`,
      );
    }
  }

  private observeSessions(device: string, req: any, res: any) {
    const sent: string[] = req.sessions.map((s: any) => s.sessionId);
    if ([...res.uploadedSessions].sort().join() !== [...sent].sort().join()) fail(`${device}: uploadedSessions is not what was sent`);
    const ids: string[] = (res.serverSessions ?? []).map((s: any) => s.sessionId);
    if (new Set(ids).size !== ids.length) fail(`${device}: duplicate ids in serverSessions`);
    for (const id of ids) if (sent.includes(id)) fail(`${device}: serverSessions echoes sent session ${id}`);
    for (const s of req.sessions) if (s.endedAt) this.sentEnds.get(s.sessionId)!.acked.push(Date.parse(s.endedAt));
  }

  /**
   * One app sync of one device (pieces, then sessions) that checks no piece was
   * lost locally and no version the device took from the server went down (its
   * local version does go down when an edit made of local bumps is acknowledged).
   */
  private async sync(d: Device) {
    const ids = [...d.pieces.keys()];
    const before = new Map(d.serverVersion);
    const r = await d.syncNow();
    for (const id of ids) if (!d.pieces.has(id)) fail(`${d.name} lost piece ${id} locally`);
    for (const [id, v] of before) {
      const now = d.serverVersion.get(id)!;
      if (now < v) fail(`${d.name}: ${id} server version went down ${v} -> ${now}`);
    }
    return r;
  }

  private arm(fault: Fault, device: Device, on: "pieces" | "sessions" = "pieces") {
    if (!fault) return;
    if ("net" in fault) {
      this.netFault.set(device.name, { net: fault.net, on: `/${on}` });
      return;
    }
    this.env.faults.add({ command: fault.command, kind: fault.db, times: fault.times });
  }

  private disarm() {
    this.env.faults.clear();
    this.netFault.clear();
  }

  private pieceAt(d: Device, ix: number): LocalPiece | undefined {
    const all = [...d.pieces.values()];
    return all.length ? all[ix % all.length] : undefined;
  }

  async step(s: Step) {
    this.env.figures.steps++;
    const d = this.devices[s.d % this.devices.length];
    switch (s.k) {
      case "create": {
        const fields: Partial<LocalPiece> = { title: this.token("title"), lyrics: this.token("lyrics") };
        if (s.notes) fields.notes = this.token("notes");
        const p = d.createPiece(fields);
        for (const k of ["title", "lyrics", "notes"] as const) if (p[k]) this.parent.set(p[k]!, undefined);
        this.created.add(p.pieceId);
        return;
      }
      case "edit": {
        const p = this.pieceAt(d, s.p);
        if (!p) return;
        const change: Record<string, unknown> = {};
        for (const f of s.fields) {
          if (f === "favorite") change.isFavorite = !p.isFavorite;
          else if (f === "practice") change.includeInPractice = !p.includeInPractice;
          else if (f === "category") change.category = p.category === "oli" ? "mele" : "oli";
          else if (f === "clear-notes") change.notes = undefined;
          else {
            const v = this.token(f);
            this.parent.set(v, (p as any)[f]);
            change[f] = v;
          }
        }
        d.edit(p.pieceId, change as any);
        return;
      }
      case "favorite": {
        const p = this.pieceAt(d, s.p);
        if (p) d.toggleFavorite(p.pieceId);
        return;
      }
      case "coldStart":
        d.coldStart();
        return;
      case "record": {
        const p = this.pieceAt(d, s.p);
        if (!p) return;
        const sess = d.recordSession(p.pieceId, s.ended);
        this.recorded.set(sess.sessionId, { device: d.name, endedAt: sess.endedAt });
        return;
      }
      case "end": {
        const open = [...d.sessions.values()].filter((e) => !e.s.endedAt && this.recorded.get(e.s.sessionId)?.device === d.name);
        if (!open.length) return;
        const e = open[s.s % open.length];
        d.endSession(e.s.sessionId);
        this.recorded.get(e.s.sessionId)!.endedAt = e.s.endedAt;
        return;
      }
      case "sync": {
        this.arm(s.fault, d, s.on);
        try {
          await this.sync(d);
        } finally {
          this.countDb(s.fault);
          this.disarm();
        }
        return;
      }
      case "syncAll": {
        this.arm(s.fault, d);
        this.env.figures.concurrentSyncs++;
        try {
          await Promise.all(this.devices.map((x) => this.sync(x)));
        } finally {
          this.countDb(s.fault);
          this.disarm();
        }
        return;
      }
    }
  }

  private readonly dbBefore: Record<string, number>;
  private countDb(fault: Fault) {
    // FaultyClient counts what it injected; charge the delta to this step's kind.
    const inj = this.env.faults.injected;
    const f = this.env.figures.faults;
    for (const k of ["throttle", "txn-throttle", "unprocessed", "crash-after"] as const) {
      const delta = inj[k] - (this.dbBefore[k] ?? 0);
      this.dbBefore[k] = inj[k];
      if (!delta) continue;
      if (k === "throttle" && fault && "db" in fault && fault.times >= STORE_MAX_ATTEMPTS) f["throttle-exhausted"] += delta;
      else f[k] += delta;
    }
  }

  private pending(): boolean {
    return this.devices.some((d) => [...d.pieces.values()].some((p) => p.locallyModified) || [...d.sessions.values()].some((e) => !e.synced));
  }

  private async round() {
    for (const d of this.devices) {
      const r = await this.sync(d);
      if (r.pieces.status !== 200 || r.sessions?.status !== 200) fail(`${d.name}: sync failed with faults off`);
    }
    this.env.figures.quiesceRounds++;
  }

  /** Faults off; rounds until nothing is pending (bounded), then two more. */
  async quiesce() {
    this.faultsOn = false;
    this.env.faults.clear();
    this.netFault.clear();
    for (const k of ["throttle", "txn-throttle", "unprocessed", "crash-after"] as const) this.dbBefore[k] = this.env.faults.injected[k];
    let rounds = 0;
    while (this.pending()) {
      if (++rounds > 8) fail("devices still have unsynced edits or sessions after 8 rounds without faults");
      await this.round();
    }
    await this.round();
    await this.round();
  }

  private async readAll(table: string): Promise<Record<string, any>[]> {
    const out: Record<string, any>[] = [];
    let start: Record<string, any> | undefined;
    do {
      const r = await this.env.h.tables.doc.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "userId = :u",
          ExpressionAttributeValues: { ":u": this.user },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** The end-state assertions. */
  async check() {
    const fig = this.env.figures;
    const items = (await this.readAll(this.env.h.tables.piecesTable)).filter((i) => i.pieceId !== SYNC_STATE_KEY);
    const server = new Map(items.map((i) => [String(i.pieceId), i]));
    // Nothing lost, nothing extra: exactly the pieces the devices created.
    const missing = [...this.created].filter((id) => !server.has(id));
    const extra = [...server.keys()].filter((id) => !this.created.has(id));
    if (missing.length || extra.length) fail(`server pieces: missing ${missing.join(",") || "none"}, extra ${extra.join(",") || "none"}`);
    for (const [id, it] of server) if (it.deleted) fail(`piece ${id} is a tombstone, but nothing deletes in v1`);

    // A device that has never synced, syncing now, gets the same.
    const fresh = new Device("fresh", this.user, this.env.h.transport(this.user));
    await fresh.syncUntilQuiet(10);
    for (const d of [...this.devices, fresh]) {
      if (d.pieces.size !== server.size) fail(`${d.name} holds ${d.pieces.size} pieces, the server ${server.size}`);
      for (const [id, it] of server) {
        const p = d.pieces.get(id);
        if (!p) fail(`${d.name} lacks piece ${id}`);
        if (p.locallyModified) fail(`${d.name}: ${id} still locally modified after quiescing`);
        if (p.version !== Number(it.version) || !sameContent(contentOf(p), contentOf(it))) {
          fail(`${d.name}: ${id} is v${p.version} ${JSON.stringify(contentOf(p))}, the server v${it.version} ${JSON.stringify(contentOf(it))}`);
        }
        fig.piecesCompared++;
      }
    }

    // Versions only go up: none a device ever accepted is above the server's.
    for (const key of this.atVersion.keys()) {
      const [id, v] = key.split("@");
      if (Number(v) > Number(server.get(id)?.version)) fail(`${id}: a device saw v${v}, the server ends at v${server.get(id)?.version}`);
    }

    this.checkAcknowledged(server);

    // Sessions: every one recorded is on the server once, with its latest end time;
    // every device holds every one.
    const sessions = new Map((await this.readAll(this.env.h.tables.sessionsTable)).map((s) => [String(s.sessionId), s]));
    const sMissing = [...this.recorded.keys()].filter((id) => !sessions.has(id));
    const sExtra = [...sessions.keys()].filter((id) => !this.recorded.has(id));
    if (sMissing.length || sExtra.length) fail(`server sessions: missing ${sMissing.join(",") || "none"}, extra ${sExtra.join(",") || "none"}`);
    const instant = (v: unknown) => (typeof v === "string" ? Date.parse(v) : undefined);
    for (const [id, rec] of this.recorded) {
      const s = sessions.get(id)!;
      // The app sends an end time only if the session was still unsent when it ended.
      const ends = this.sentEnds.get(id);
      const serverEnd = instant(s.endedAt);
      if (ends?.acked.length) {
        if (serverEnd !== Math.max(...ends.acked)) fail(`session ${id}: server endedAt ${s.endedAt}, latest acknowledged ${new Date(Math.max(...ends.acked)).toISOString()}`);
      } else if (serverEnd !== undefined && !ends?.sent.has(serverEnd)) {
        fail(`session ${id}: server endedAt ${s.endedAt}, which ${rec.device} never sent`);
      }
    }
    for (const d of [...this.devices, fresh]) {
      if (d.sessions.size !== sessions.size) fail(`${d.name} holds ${d.sessions.size} sessions, the server ${sessions.size}`);
      for (const [id, s] of sessions) {
        const e = d.sessions.get(id);
        if (!e) fail(`${d.name} lacks session ${id}`);
        if (!e.synced) fail(`${d.name}: session ${id} still unsynced`);
        if (e.s.pieceId !== s.pieceId) fail(`${d.name}: session ${id} pieceId ${e.s.pieceId}, server ${s.pieceId}`);
        for (const k of ["startedAt", "createdAt"] as const) {
          if (instant(e.s[k]) !== instant(s[k])) fail(`${d.name}: session ${id} ${k} ${e.s[k]}, server ${s[k]}`);
        }
        // The app never updates a session it already has (contract): a device that
        // learned a session while it was open keeps it open; and the device that
        // recorded it keeps an end time it saved after the session was sent, which the
        // server never receives. Anything else must match.
        const creator = this.recorded.get(id)!.device === d.name;
        const learnedOpen = !creator && e.s.endedAt === undefined;
        const endNeverSent = creator && s.endedAt === undefined && e.s.endedAt !== undefined;
        if (instant(e.s.endedAt) !== instant(s.endedAt) && !learnedOpen && !endNeverSent) {
          fail(`${d.name}: session ${id} endedAt ${e.s.endedAt}, server ${s.endedAt}`);
        }
        fig.sessionsCompared++;
      }
    }
  }

  /** How many values of field `f` the server was seen holding after version `base` (all, when none). */
  private valuesSince(pieceId: string, f: string, base: number | undefined): number {
    const seen = [...this.atVersion]
      .filter(([k]) => k.startsWith(`${pieceId}@`) && (base === undefined || Number(k.split("@")[1]) > base))
      .sort(([a], [b]) => Number(a.split("@")[1]) - Number(b.split("@")[1]));
    let n = 0;
    let last: unknown = Symbol("none");
    for (const [, c] of seen) {
      if (!same(c[f], last)) n++;
      last = c[f];
    }
    return n;
  }

  /** True when `z` was written by someone who had seen `a` (a chain of edits from a). */
  private descends(z: unknown, a: unknown): boolean {
    let cur = typeof z === "string" ? z : undefined;
    for (let guard = 0; cur !== undefined && guard < 10000; guard++) {
      if (!this.parent.has(cur)) return false;
      const up = this.parent.get(cur);
      if (up === a) return true;
      cur = up;
    }
    return false;
  }

  private isUnique(v: unknown): boolean {
    return typeof v === "string" && this.parent.has(v);
  }

  /**
   * Each acknowledged field value is still there, or was replaced under the
   * documented rule by a value that some push reaching the server carried:
   * - by a later edit: the final value descends from the acknowledged one (a chain
   *   of unique values, each written by a device holding the one before), or a
   *   push that started from the acknowledged version or a later one changed the
   *   field to it;
   * - by the conflict rule: a push that changed the field from a base already
   *   holding the acknowledged value (three-way merge: only its side changed), or
   *   one with modifiedAt at least the acknowledged value's edit time that changed the
   *   field (the later edit wins) or started from a base MERGE_HISTORY_DEPTH
   *   versions behind the piece (last-writer-wins on the whole piece).
   * Anything else is a lost acknowledged edit. A push that carried the value
   * unchanged from an older base explains nothing: that is a blind overwrite.
   */
  private checkAcknowledged(server: Map<string, Record<string, any>>) {
    const fig = this.env.figures;
    for (const a of this.acks) {
      const final = server.get(a.pieceId)!;
      const finalVersion = Number(final.version);
      for (const f of CONTENT_KEYS) {
        fig.checked++;
        const av = a.content[f];
        const zv = norm(final[f]);
        if (same(av, zv)) {
          fig.kept++;
          continue;
        }
        // Pushes that reached the server carrying the final value, with the version
        // each started from and whether it changed the field from that base.
        const carriers = this.pushes
          .filter((p) => p.pieceId === a.pieceId && same(p.content[f], zv))
          .map((p) => {
            const base = p.base === undefined ? undefined : this.atVersion.get(`${p.pieceId}@${p.base}`);
            return { p, base, changed: !base || !same(base[f], zv) };
          });
        const laterEdit =
          (this.isUnique(av) && this.isUnique(zv) && this.descends(zv, av)) ||
          carriers.some((c) => c.base && c.changed && (c.p.base ?? -1) >= a.version);
        if (laterEdit) {
          fig.replacedByLaterEdit++;
          continue;
        }
        // When the acknowledged value was written: the server keeps each field's edit
        // time, the modifiedAt of the push that changed the field to it. The earliest
        // such push that reached the server (never later than the acknowledgement).
        const writers = this.pushes.filter((q) => {
          if (q.pieceId !== a.pieceId || !same(q.content[f], av)) return false;
          const b = q.base === undefined ? undefined : this.atVersion.get(`${q.pieceId}@${q.base}`);
          return !b || !same(b[f], av);
        });
        const valueTime = Math.min(Date.parse(a.modifiedAt), ...writers.map((q) => Date.parse(q.modifiedAt)));
        const heldAcknowledged = (v: unknown) => same(v, av) || (this.isUnique(v) && this.isUnique(av) && this.descends(v, av));
        const won = carriers.some(({ p, base, changed }) => {
          // Three-way: the device changed the field, and its base already held the
          // acknowledged value, so only the device's side changed it.
          if (base && changed && heldAcknowledged(base[f])) return true;
          if (Date.parse(p.modifiedAt) < valueTime) return false;
          // Conflicting edits: the later edit of the field wins it; a base no longer
          // kept means last-writer-wins on the whole piece.
          return changed || this.valuesSince(a.pieceId, f, p.base) >= FIELD_HISTORY_DEPTH;
        });
        if (won) {
          fig.replacedByConflictRule++;
          continue;
        }
        fail(
          `acknowledged ${f}=${JSON.stringify(av)} of ${a.pieceId}@${a.version} (by ${a.device}, modifiedAt ${a.modifiedAt}) ` +
            `was replaced by ${JSON.stringify(zv)} (final v${finalVersion}) with no later edit or winning conflict to explain it; ` +
            `pushes carrying it: ${JSON.stringify(carriers.map(({ p, changed }) => ({ d: p.device, v: p.version, m: p.modifiedAt, changed })))}`,
        );
      }
    }
  }
}

/** One generated case, start to end. */
export async function runCase(env: Env, c: Case): Promise<void> {
  env.figures.cases++;
  const run = new CaseRun(env, c);
  for (const s of c.steps) await run.step(s);
  await run.quiesce();
  await run.check();
}

/**
 * One convergence suite: `runs` generated cases in `lanes` lanes that run side by
 * side (each on its own tables, with faults around its own client, so one lane's
 * injected faults never reach another's), and the figures line printed at the end.
 * DynamoDB Local answers each call in a few milliseconds; lanes keep it busy instead
 * of waiting on one call at a time. The sequential and concurrent suites differ only
 * in `concurrent` (how many steps may sync every device at once).
 */
export function defineConvergenceSuite(o: { name: string; label: string; runs: number; concurrent: number; title: string; lanes?: number }) {
  const lanes = Math.max(1, Math.min(o.lanes ?? Number(process.env.CONVERGENCE_LANES ?? 3), o.runs));
  const envs: Env[] = [];
  const figures = newFigures();
  let ms: number | undefined;
  beforeAll(async () => {
    for (let i = 0; i < lanes; i++) {
      let faults!: FaultyClient;
      const h = await createHarness(`${o.label}${i}`, {
        doc: (doc) => (faults = withFaults(doc)).doc,
        store: { sleep: async () => undefined, maxAttempts: STORE_MAX_ATTEMPTS },
      });
      envs.push({ h, faults, figures, label: `${o.label}${i}` });
    }
  });
  afterAll(async () => {
    console.log(figuresLine(o.name, figures, ms));
    for (const env of envs.reverse()) await env.h.done();
  });
  test(o.title, async () => {
    const t0 = Date.now();
    const results = await Promise.allSettled(
      envs.map((env, i) =>
        fc.assert(
          fc.asyncProperty(caseArb({ minSteps: 5, maxSteps: 25, concurrent: o.concurrent }), async (c) => {
            env.h.logs.length = 0;
            await runCase(env, c);
          }),
          { numRuns: Math.floor(o.runs / lanes) + (i < o.runs % lanes ? 1 : 0) },
        ),
      ),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    ms = Date.now() - t0;
  });
}
