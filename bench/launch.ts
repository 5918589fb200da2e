// Issue 13's figures: the launch sync. The shipped app keeps lastSyncedAt in memory
// only, so every launch is a full pull whose request lists every piece the device
// holds. Measured at each n, ours and the baseline side by side, with devices that
// build their requests and apply the answers as the app does (tests/helpers/device.ts):
// - a cold-start sync with nothing new;
// - the same after another device changed 10 pieces;
// - the same while the device holds 10 pieces the server lacks (the old backend
//   acknowledged edits it never stored): ours must store them, which is checked;
// - a day of one device: 10 launches, 5 practice starts (each bumps the piece's
//   version, marks it modified and syncs with lastSyncedAt), 2 edits made on
//   another device, each of which the next sync must bring.
// Only /pieces is measured (see DAY_NOTE).
import { pickContent, sameContent } from "../functions/core/merge";
import { isServerVersion } from "../functions/core/versions";
import { MAX_BODY_BYTES } from "../lib/limits";
import { Device, DeviceClock, Transport } from "../tests/helpers/device";
import { BenchPiece, makePiece } from "./corpus";
import type { Ours } from "./ours";
import type { Entry } from "./report";
import { Measured, medianOf } from "./stats";

/**
 * Runs behind each cold-start median. The baseline's cold start at 10,000 pieces reads
 * and answers about 35 MB (some 15 s here) and its figures do not vary from run to
 * run, so it runs once there, to keep the bench within its 10 minutes.
 */
const runsAt = (n: number) => ({ ours: 3, baseline: n >= 10_000 ? 1 : 3 });
/** Issue 13's targets for a cold-start sync with nothing new, at every n. */
export const NOTHING_NEW_MAX_RESULT_BYTES = 2048;
export const NOTHING_NEW_MAX_READ_UNITS = 5;
/** A version the old backend issued (it stored the device's version + 1). */
const OLD_BACKEND_VERSION = 3;
const CHANGED = 10;
const MISSING = 10;

export const METRICS = {
  requestBytes: "cold-start sync: request bytes",
  nothingNewBytes: "cold-start sync, nothing new: response bytes",
  nothingNewReads: "cold-start sync, nothing new: read units",
  nothingNewMs: "cold-start sync, nothing new: handler time",
  changedBytes: "cold-start sync, 10 changed elsewhere: response bytes",
  changedReads: "cold-start sync, 10 changed elsewhere: read units",
  changedMs: "cold-start sync, 10 changed elsewhere: handler time",
  missingBytes: "cold-start sync, 10 missing on the server: response bytes",
  missingReads: "cold-start sync, 10 missing on the server: read units",
  missingWrites: "cold-start sync, 10 missing on the server: write units",
  missingMs: "cold-start sync, 10 missing on the server: handler time",
  missingStored: "cold-start sync, 10 missing on the server: pieces stored",
  dayRequests: "day of the app: /pieces requests",
  dayBytes: "day of the app: response bytes",
  dayReads: "day of the app: read units",
  dayMs: "day of the app: handler time",
} as const;

/** The day, in order: a launch is a cold start and its sync; a practice start bumps a piece and syncs. */
const DAY = [
  "launch", "practice", "launch", "edit-elsewhere", "launch", "practice", "launch", "practice", "launch",
  "edit-elsewhere", "practice", "launch", "practice", "launch", "launch", "launch", "launch",
] as const;

export const DAY_NOTE =
  "10 launches (cold starts), 5 practice starts (each bumps the piece's version, marks it modified and syncs with lastSyncedAt), " +
  "2 edits on another device, each brought by the next sync: the 15 /pieces requests of one device. Not included: that other " +
  "device's own syncs, and /sessions, which the app calls after every /pieces: both sides answer it with the user's whole " +
  "session history (the app's request has no cursor), a cost that grows with practice history, not with the repertoire, and " +
  "the bench has no stand-in for the old backend's /sessions";

export interface LaunchContext {
  n: number;
  userId: string;
  ours: Ours;
  add(e: Entry): void;
  /** A measured POST /pieces to ours; a body over the 6 MB limit runs without the check (bench/ours.ts). */
  callOurs(body: unknown): Promise<Measured>;
  callBaseline(body: unknown): Promise<Measured>;
  /** What both servers hold: each piece as the device holds it, at ours' version. */
  repertoire(): { piece: BenchPiece; oursVersion: number }[];
  /** Another device of the user edits `count` pieces and syncs them to both servers. */
  editElsewhere(count: number): Promise<BenchPiece[]>;
  /**
   * Pieces ours took from a device that the baseline left unstored: they join the
   * repertoire, and the baseline's table gets them directly, so both sides hold the
   * same pieces for the figures that follow.
   */
  adopt(pieces: BenchPiece[]): Promise<void>;
  /** Where a new device clock starts: at or after every edit so far. */
  deviceClockMs(): number;
  /** Keeps the baseline's clock at or after `ms` (a device's latest edit). */
  holdBaselineClock(ms: number): void;
  /** How many of `ids` the baseline's table holds. */
  baselineHolds(ids: string[]): Promise<number>;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(2);

function deviceHolding(name: string, userId: string, transport: Transport, held: { piece: BenchPiece; oursVersion: number }[], clockMs: number): Device {
  const d = new Device(name, userId, transport, new DeviceClock(clockMs));
  const synced = new Date(clockMs).toISOString();
  for (const { piece, oursVersion } of held) {
    d.pieces.set(piece.pieceId, { ...piece, version: oursVersion, locallyModified: false, lastSyncedAt: synced });
  }
  return d;
}

export async function measureLaunch(ctx: LaunchContext): Promise<void> {
  const { n, userId } = ctx;
  const oursLog: Measured[] = [];
  const baseLog: Measured[] = [];
  const transport =
    (call: (body: unknown) => Promise<Measured>, log: Measured[]): Transport =>
    async (route, body) => {
      if (route !== "/pieces") throw new Error(`bench: the launch figures measure /pieces only, not ${route}`);
      const m = await call(body);
      log.push(m);
      return { status: 200, body: m.body };
    };
  const held = ctx.repertoire();
  const clockMs = ctx.deviceClockMs();
  const oursDev = deviceHolding("ours", userId, transport(ctx.callOurs, oursLog), held, clockMs);
  const baseDev = deviceHolding("baseline", userId, transport(ctx.callBaseline, baseLog), held, clockMs);
  const last = (log: Measured[]) => log[log.length - 1];
  /** A sync as SyncService.syncNow makes it; /sessions is taken as succeeded (not measured). */
  const sync = async (d: Device) => {
    await d.syncPieces();
    d.keepSyncedAt();
  };
  /** iOS ended the app in the background: it starts without lastSyncedAt and syncs at once. */
  const launch = async (d: Device) => {
    d.coldStart();
    await sync(d);
  };
  const ids = (pieces: any[]) => pieces.map((p) => String(p.pieceId));

  // ---- the request, and the route code without the body check against the production route
  oursDev.coldStart();
  const body = oursDev.piecesBody();
  const requestBytes = Buffer.byteLength(JSON.stringify(body), "utf8");
  const overLimit = requestBytes > MAX_BODY_BYTES;
  if (overLimit) {
    const r = await ctx.ours.pieces(userId, body);
    if (r.status !== 413) throw new Error(`ours: a ${mb(requestBytes)} MB request answered ${r.status} instead of 413`);
  } else {
    const a = await ctx.ours.pieces(userId, body);
    const b = await ctx.ours.pieces(userId, body, { withoutBodyLimit: "always" });
    if (a.status !== 200 || JSON.stringify(a.body) !== JSON.stringify(b.body)) {
      throw new Error("ours: the /pieces route without the body check answered otherwise than the production route");
    }
  }
  const noteRequest =
    `request ${mb(requestBytes)} MB: every piece the device holds, as the app sends it, no lastSyncedAt` +
    (overLimit
      ? "; over Lambda's 6 MB request limit (the production route answers 413, as checked; the real app gets 413 there): " +
        "ours measured by running the /pieces route code without the body check, the baseline as if it had no limit"
      : "");
  ctx.add({ metric: METRICS.requestBytes, n, ours: requestBytes, baseline: requestBytes, unit: "bytes", better: "none", note: noteRequest });
  const noteAnswer = (b: Measured) =>
    b.resultBytes > MAX_BODY_BYTES ? `${noteRequest}; the baseline's answer (${mb(b.resultBytes)} MB) is over Lambda's 6 MB response limit, counted as built` : noteRequest;

  // ---- a cold start with nothing new
  const runs = runsAt(n);
  const oq: Measured[] = [];
  const bq: Measured[] = [];
  for (let r = 0; r < runs.ours; r++) {
    await launch(oursDev);
    oq.push(last(oursLog));
    const o = last(oursLog).body;
    if (o.serverPieces.length || o.updatedPieces.length) {
      throw new Error(`ours: a cold start with nothing new answered ${o.serverPieces.length} server and ${o.updatedPieces.length} updated pieces`);
    }
    if (r >= runs.baseline) continue;
    await launch(baseDev);
    bq.push(last(baseLog));
    if (last(baseLog).body.serverPieces.length < held.length) throw new Error("baseline: a cold start did not answer the whole repertoire");
  }
  const q = { o: medianOf(oq), b: medianOf(bq) };
  ctx.add({ metric: METRICS.nothingNewBytes, n, ours: q.o.resultBytes, baseline: q.b.resultBytes, unit: "bytes", better: "lower", note: `proxy result as Lambda returns it; ${noteAnswer(q.b)}` });
  ctx.add({ metric: METRICS.nothingNewReads, n, ours: q.o.read, baseline: q.b.read, unit: "RCU", better: "lower", note: "as DynamoDB Local reports them (tests/helpers/capacity.ts)" });
  ctx.add({ metric: METRICS.nothingNewMs, n, ours: q.o.ms, baseline: q.b.ms, unit: "ms", better: "lower", runs: [runs.ours, runs.baseline], note: "on DynamoDB Local; includes parsing the request" });

  // ---- a cold start after another device changed 10 pieces
  const oc: Measured[] = [];
  const bc: Measured[] = [];
  for (let r = 0; r < runs.ours; r++) {
    const changed = await ctx.editElsewhere(CHANGED);
    await launch(oursDev);
    oc.push(last(oursLog));
    const got = new Set(ids(last(oursLog).body.serverPieces));
    if (got.size !== CHANGED || changed.some((p) => !got.has(p.pieceId))) {
      throw new Error(`ours: a cold start after ${CHANGED} changes elsewhere answered ${got.size} pieces, not those ${CHANGED}`);
    }
    if (changed.some((p) => oursDev.content(p.pieceId)?.notes !== p.notes)) throw new Error("ours: the device does not hold the changes made elsewhere");
    if (r >= runs.baseline) continue;
    await launch(baseDev);
    bc.push(last(baseLog));
    const baseGot = new Set(ids(last(baseLog).body.serverPieces));
    if (changed.some((p) => !baseGot.has(p.pieceId))) throw new Error("baseline: a cold start missed a change made elsewhere");
  }
  const c = { o: medianOf(oc), b: medianOf(bc) };
  const noteChanged = `another device pushed ${CHANGED} edited pieces since this device last synced; ${noteAnswer(c.b)}`;
  ctx.add({ metric: METRICS.changedBytes, n, ours: c.o.resultBytes, baseline: c.b.resultBytes, unit: "bytes", better: "lower", note: noteChanged });
  ctx.add({ metric: METRICS.changedReads, n, ours: c.o.read, baseline: c.b.read, unit: "RCU", better: "lower" });
  ctx.add({ metric: METRICS.changedMs, n, ours: c.o.ms, baseline: c.b.ms, unit: "ms", better: "lower", runs: [runs.ours, runs.baseline] });

  // ---- a cold start while the device holds 10 pieces the server lacks
  const missing: BenchPiece[] = Array.from({ length: MISSING }, (_, i) => ({
    ...makePiece(userId, held.length + i),
    version: OLD_BACKEND_VERSION,
    locallyModified: false,
  }));
  for (const d of [oursDev, baseDev]) {
    for (const p of missing) d.pieces.set(p.pieceId, { ...p, lastSyncedAt: new Date(clockMs).toISOString() });
  }
  await launch(oursDev);
  const om = last(oursLog);
  await launch(baseDev);
  const bm = last(baseLog);
  const missingIds = missing.map((p) => p.pieceId);
  const stored = await ctx.ours.store.getMany("pieces", userId, missingIds);
  const oursStored = missing.filter((p) => {
    const s = stored.get(p.pieceId);
    return s && !s.deleted && isServerVersion(Number(s.version)) && sameContent(pickContent(s), pickContent(p));
  }).length;
  if (oursStored !== MISSING) throw new Error(`ours: stored ${oursStored} of the ${MISSING} pieces the device held and the server lacked`);
  const acknowledged = new Set(ids(om.body.updatedPieces));
  if (missingIds.some((id) => !acknowledged.has(id) || oursDev.pieces.get(id)!.version !== Number(stored.get(id)!.version))) {
    throw new Error("ours: the device did not get the stored pieces' versions");
  }
  const baseStored = await ctx.baselineHolds(missingIds);
  const noteMissing = `the device holds ${MISSING} pieces (version ${OLD_BACKEND_VERSION}, not modified) the server lacks; ${noteAnswer(bm)}`;
  ctx.add({ metric: METRICS.missingBytes, n, ours: om.resultBytes, baseline: bm.resultBytes, unit: "bytes", better: "lower", note: `${noteMissing}; ours acknowledges them in updatedPieces with their new versions` });
  ctx.add({ metric: METRICS.missingReads, n, ours: om.read, baseline: bm.read, unit: "RCU", better: "lower" });
  ctx.add({ metric: METRICS.missingWrites, n, ours: om.write, baseline: bm.write, unit: "WCU", better: "none", note: "ours computed by DynamoDB's rules (bench/write-units.ts); the baseline writes nothing: it stores only pieces marked modified" });
  ctx.add({ metric: METRICS.missingMs, n, ours: om.ms, baseline: bm.ms, unit: "ms", better: "lower" });
  ctx.add({ metric: METRICS.missingStored, n, ours: oursStored, baseline: baseStored, unit: "pieces", better: "higher", note: "read back from each side's table after the sync; ours also checked for content and a server version" });
  await ctx.adopt(missing);

  // ---- a day of the app
  const all = [...oursDev.pieces.keys()];
  const from = { ours: oursLog.length, base: baseLog.length };
  let practiced = 0;
  let pending: BenchPiece | undefined;
  for (const step of DAY) {
    if (step === "edit-elsewhere") {
      [pending] = await ctx.editElsewhere(1);
      continue;
    }
    if (step === "practice") {
      const id = all[(practiced++ * 7919 + 17) % all.length];
      for (const d of [oursDev, baseDev]) d.recordSession(id, false);
      ctx.holdBaselineClock(Math.max(oursDev.clock.ms, baseDev.clock.ms));
    }
    for (const d of [oursDev, baseDev]) await (step === "launch" ? launch(d) : sync(d));
    if (pending) {
      for (const [side, log] of [["ours", oursLog], ["baseline", baseLog]] as const) {
        if (!ids(last(log).body.serverPieces).includes(pending.pieceId)) throw new Error(`${side}: the sync after an edit elsewhere did not bring it`);
      }
      if (oursDev.content(pending.pieceId)?.notes !== pending.notes) throw new Error("ours: the device does not hold the edit made elsewhere");
      pending = undefined;
    }
  }
  const od = oursLog.slice(from.ours);
  const bd = baseLog.slice(from.base);
  const sum = (ms: Measured[], k: "resultBytes" | "read" | "ms") => ms.reduce((s, m) => s + m[k], 0);
  const dayNote = `${DAY_NOTE}; ${noteRequest}`;
  ctx.add({ metric: METRICS.dayRequests, n, ours: od.length, baseline: bd.length, unit: "requests", better: "none", note: dayNote });
  ctx.add({ metric: METRICS.dayBytes, n, ours: sum(od, "resultBytes"), baseline: sum(bd, "resultBytes"), unit: "bytes", better: "lower", note: "total of the proxy results as Lambda returns them" });
  ctx.add({ metric: METRICS.dayReads, n, ours: sum(od, "read"), baseline: sum(bd, "read"), unit: "RCU", better: "lower" });
  ctx.add({ metric: METRICS.dayMs, n, ours: sum(od, "ms"), baseline: sum(bd, "ms"), unit: "ms", better: "lower", note: "total handler time on DynamoDB Local" });
}
