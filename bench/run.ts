// `npm run bench`: ours against a baseline that behaves like the old backend
// (bench/baseline.ts), side by side in one run on one in-memory DynamoDB Local, at
// 100, 1,000 and 10,000 stored pieces of realistic size. Prints a table, writes
// bench-results.json (one entry per figure), checks the targets of issue 6 and of
// issue 13 (the launch sync, bench/launch.ts) and exits non-zero when one fails.
// Not part of `npm test`.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { DynamoDBLocal, startDynamoDBLocal } from "../local/dynamodb-local";
import { CapacityMeter, meterCapacity } from "../tests/helpers/capacity";
import { measureAuth } from "./auth";
import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import { baselinePiecesHandler, batchPut, createBaselineTable } from "./baseline";
import { BenchPiece, edited, isoSecond, makePiece } from "./corpus";
import { costPerUserMonth, PRICES, SyncProfile, USAGE } from "./cost";
import { measureLaunch, METRICS as LAUNCH, NOTHING_NEW_MAX_READ_UNITS, NOTHING_NEW_MAX_RESULT_BYTES } from "./launch";
import { createOurs, ProxyCall } from "./ours";
import { Entry, printTable, ratioOf, Results, Target } from "./report";
import { measureCliStartup, measureLambdas } from "./startup";
import { Measured, medianOf } from "./stats";
import { meterTransactions } from "./write-units";

const SIZES = [100, 1000, 10_000] as const;
const WRITE_NOTE =
  "ours computed by DynamoDB's rules (DynamoDB Local misreports transactions; bench/write-units.ts): transactional (2x), " +
  "versioned, with both keys-only indexes (byChange, byBucket) and the user's counter item with its 2 KB repertoire digest";
/** Largest n at which a v1 device's whole-repertoire request stays under 6 MB. */
const FULL_REQUEST_MAX_N = 1000;
const LAMBDA_LIMIT_BYTES = 6 * 1024 * 1024;
const RUNS_OURS = 5;
const RUNS_BASELINE = 3;
const USER = "109876543210987654321";

const progress = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const started = Date.now();

async function main(): Promise<number> {
  const ddb = await startDynamoDBLocal({ startTimeoutMs: 60000 });
  progress(`DynamoDB Local (in memory) at ${ddb.endpoint}, pid ${ddb.pid}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void ddb.stop().then(() => process.exit(130)));
  }
  try {
    return await run(ddb);
  } finally {
    await ddb.stop();
  }
}

async function run(ddb: DynamoDBLocal): Promise<number> {
  const client = () =>
    new DynamoDBClient({ endpoint: ddb.endpoint, region: "us-west-2", credentials: { accessKeyId: "bench", secretAccessKey: "bench" }, maxAttempts: 3 });
  const docOf = (c: DynamoDBClient) => DynamoDBDocumentClient.from(c, { marshallOptions: { removeUndefinedValues: true } });
  const oursClient = client();
  const baseClient = client();
  const oursMeter = meterCapacity(oursClient);
  const baseMeter = meterCapacity(baseClient);
  const prefix = `bench-${randomBytes(3).toString("hex")}`;
  const ours = await createOurs(oursClient, docOf(oursClient), prefix);
  // Before ours' first write: it keeps the image of every item written.
  const oursTx = meterTransactions(oursClient, ours.schemaOf);
  const baseTable = `${prefix}-baseline-pieces`;
  await createBaselineTable(baseClient, baseTable);
  // Device edits are stamped in whole seconds, each batch in a later second; the
  // baseline's server clock is never behind the latest edit, so its filter on
  // modifiedAt > lastSyncedAt sees exactly the edits made after a sync.
  let editClock = Math.floor(Date.now() / 1000) * 1000;
  const nextEditMs = () => (editClock = Math.max(editClock + 1000, Math.floor(Date.now() / 1000) * 1000 + 1000));
  let baseLogged = 0;
  const baseline = baselinePiecesHandler({
    doc: docOf(baseClient),
    table: baseTable,
    log: (l) => (baseLogged += Buffer.byteLength(l, "utf8") + 1),
    now: () => Math.max(Date.now(), editClock + 500),
  });

  const entries: Entry[] = [];
  const add = (e: Entry) => entries.push(e);
  const oursLogPerSync: number[] = [];

  // The owner's device: one repertoire, the same content on both sides.
  const local: BenchPiece[] = [];
  /** The latest version ours answered for each piece (every answer is taken). */
  const oursVersion = new Map<string, number>();

  /** One measured POST /pieces; `withoutBodyLimit` as in bench/ours.ts. */
  const callOurs = async (body: any, withoutBodyLimit?: "when-over"): Promise<Measured> => {
    oursMeter.reset();
    oursTx.reset();
    const r: ProxyCall = await ours.pieces(USER, body, { withoutBodyLimit });
    if (r.status !== 200) throw new Error(`ours: status ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
    oursLogPerSync.push(r.logBytes);
    for (const p of [...(r.body.updatedPieces ?? []), ...r.body.serverPieces]) oursVersion.set(p.pieceId, p.version);
    const write = oursMeter.write - oursTx.reported + oursTx.computed;
    return {
      ...units(oursMeter),
      write,
      logBytes: r.logBytes,
      ms: r.durationMs,
      requestBytes: r.requestBytes,
      resultBytes: r.resultBytes,
      overBodyLimit: r.overBodyLimit,
      body: r.body,
    };
  };
  const callBaseline = async (body: any): Promise<Measured> => {
    baseMeter.reset();
    baseLogged = 0;
    const raw = JSON.stringify(body);
    const t = process.hrtime.bigint();
    const res = await baseline(USER, raw);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    return {
      ...units(baseMeter),
      logBytes: baseLogged,
      ms,
      requestBytes: Buffer.byteLength(raw, "utf8"),
      resultBytes: Buffer.byteLength(JSON.stringify(res)),
      overBodyLimit: false,
      body: JSON.parse(res.body),
    };
  };

  let oursCursor: string | undefined;
  let baseCursor: string | undefined;
  let stamp = 0;
  const asSent = (p: BenchPiece, modified: boolean) => ({ ...p, version: oursVersion.get(p.pieceId) ?? p.version, locallyModified: modified });
  const v1Body = (cursor: string | undefined, pieces: object[]) => ({ operation: "sync", ...(cursor ? { lastSyncedAt: cursor } : {}), pieces });
  const takeOurs = (m: Measured) => {
    oursCursor = isoSecond(Date.parse(m.body.syncedAt));
    return m;
  };
  const takeBase = (m: Measured) => {
    baseCursor = isoSecond(Date.parse(m.body.syncedAt));
    return m;
  };
  /** Edits `count` pieces locally; returns them as the device sends them. */
  const editSome = (count: number) => {
    const ms = nextEditMs();
    const picked: BenchPiece[] = [];
    for (let i = 0; i < count; i++) {
      const idx = (stamp * 397 + i) % local.length; // distinct while count <= n
      local[idx] = edited(local[idx], stamp, ms);
      picked.push(local[idx]);
    }
    stamp++;
    return picked;
  };
  const clearFlags = (ps: BenchPiece[]) => ps.forEach((p) => (p.locallyModified = false));

  const profiles = new Map<string, { ours: SyncProfile; baseline: SyncProfile; variant: string }>();
  let authorizerMs = { ours: 1, baseline: 1 };

  for (const n of SIZES) {
    // ---- seed: ours through its push path, the baseline with BatchWrite ----
    const fresh: BenchPiece[] = [];
    while (local.length < n) {
      const p = makePiece(USER, local.length);
      local.push(p);
      fresh.push(p);
    }
    for (let i = 0; i < fresh.length; i += 1000) {
      takeOurs(await callOurs(v1Body(oursCursor, fresh.slice(i, i + 1000).map((p) => asSent(p, true)))));
    }
    await batchPut({ doc: docOf(baseClient), table: baseTable, log: () => undefined }, fresh.map((p) => ({ ...p, locallyModified: false })));
    clearFlags(fresh);
    baseCursor ??= isoSecond(Date.now());
    oursLogPerSync.length = 0;
    progress(`seeded ${n} pieces on both sides`);

    // ---- no-change sync: the request carries no pieces ----
    const oursQuiet: Measured[] = [];
    for (let r = 0; r < RUNS_OURS; r++) oursQuiet.push(takeOurs(await callOurs(v1Body(oursCursor, []))));
    const baseQuiet: Measured[] = [];
    for (let r = 0; r < RUNS_BASELINE; r++) baseQuiet.push(takeBase(await callBaseline(v1Body(baseCursor, []))));
    const oq = medianOf(oursQuiet);
    const bq = medianOf(baseQuiet);
    if (oq.body.serverPieces.length || bq.body.serverPieces.length) {
      throw new Error(`a no-change sync returned pieces: ours ${oq.body.serverPieces.length}, baseline ${bq.body.serverPieces.length}`);
    }
    const NOTE_EMPTY = "request carries no pieces (a v1 device sends its whole repertoire: over Lambda's 6 MB request limit at 10,000 pieces)";
    add({ metric: "read units, no-change sync", n, ours: oq.read, baseline: bq.read, unit: "RCU", better: "lower", note: NOTE_EMPTY });
    add({ metric: "DynamoDB requests, no-change sync", n, ours: oq.requests, baseline: bq.requests, unit: "requests", better: "lower", note: pagesNote(bq, 2) });
    add({ metric: "bytes logged, no-change sync", n, ours: oq.logBytes, baseline: bq.logBytes, unit: "bytes", better: "lower", note: NOTE_EMPTY });
    add({ metric: "handler time, no-change sync", n, ours: oq.ms, baseline: bq.ms, unit: "ms", better: "lower", runs: [RUNS_OURS, RUNS_BASELINE], note: "on DynamoDB Local" });

    // ---- the same, as a v1 device really sends it: its whole repertoire ----
    let fullQuiet: { o: Measured; b: Measured } | undefined;
    if (n <= FULL_REQUEST_MAX_N) {
      const os: Measured[] = [];
      const bs: Measured[] = [];
      for (let r = 0; r < RUNS_BASELINE; r++) {
        os.push(takeOurs(await callOurs(v1Body(oursCursor, local.map((p) => asSent(p, false))))));
        bs.push(takeBase(await callBaseline(v1Body(baseCursor, local.map((p) => asSent(p, false))))));
      }
      fullQuiet = { o: medianOf(os), b: medianOf(bs) };
      const NOTE_FULL = `v1 request with the whole repertoire (${(JSON.stringify(v1Body(oursCursor, local)).length / 1e6).toFixed(2)} MB)`;
      add({ metric: "read units, no-change sync (v1 full request)", n, ours: fullQuiet.o.read, baseline: fullQuiet.b.read, unit: "RCU", better: "lower", note: NOTE_FULL });
      add({ metric: "bytes logged, no-change sync (v1 full request)", n, ours: fullQuiet.o.logBytes, baseline: fullQuiet.b.logBytes, unit: "bytes", better: "lower", note: NOTE_FULL });
      add({ metric: "handler time, no-change sync (v1 full request)", n, ours: fullQuiet.o.ms, baseline: fullQuiet.b.ms, unit: "ms", better: "lower", runs: [RUNS_BASELINE, RUNS_BASELINE] });
    }

    // ---- a sync that pushes 10 edited pieces (request: only those 10) ----
    const oursTen: Measured[] = [];
    const baseTen: Measured[] = [];
    for (let r = 0; r < RUNS_BASELINE; r++) {
      const ten = editSome(10);
      oursTen.push(takeOurs(await callOurs(v1Body(oursCursor, ten.map((p) => asSent(p, true))))));
      baseTen.push(takeBase(await callBaseline(v1Body(baseCursor, ten.map((p) => asSent(p, true))))));
      clearFlags(ten);
    }
    const ot = medianOf(oursTen);
    const bt = medianOf(baseTen);
    const NOTE_TEN = "device pushes 10 edited pieces; request carries only those 10";
    add({ metric: "read units, sync pushing 10 changes", n, ours: ot.read, baseline: bt.read, unit: "RCU", better: "lower", note: NOTE_TEN });
    add({ metric: "write units, sync pushing 10 changes", n, ours: ot.write, baseline: bt.write, unit: "WCU", better: "lower", note: WRITE_NOTE });
    add({ metric: "bytes logged, sync pushing 10 changes", n, ours: ot.logBytes, baseline: bt.logBytes, unit: "bytes", better: "lower" });

    // ---- a sync that receives 10 pieces edited on another device ----
    const oursBefore = oursCursor;
    const baseBefore = baseCursor;
    const ten = editSome(10);
    takeOurs(await callOurs(v1Body(oursCursor, ten.map((p) => asSent(p, true)))));
    takeBase(await callBaseline(v1Body(baseCursor, ten.map((p) => asSent(p, true)))));
    clearFlags(ten);
    const op = await callOurs(v1Body(oursBefore, []));
    const bp = await callBaseline(v1Body(baseBefore, []));
    if (op.body.serverPieces.length !== 10) throw new Error(`ours: pulled ${op.body.serverPieces.length} pieces, expected 10`);
    if (bp.body.serverPieces.length < 10) throw new Error(`baseline: pulled ${bp.body.serverPieces.length} pieces, expected 10`);
    add({ metric: "read units, sync receiving 10 changes", n, ours: op.read, baseline: bp.read, unit: "RCU", better: "lower", note: "a second device pulls 10 pieces edited elsewhere; request carries no pieces" });

    // ---- push 200 edits in one sync (at 100 pieces there are not 200 to edit) ----
    if (n >= 200) {
    const many = editSome(200);
    const o200 = takeOurs(await callOurs(v1Body(oursCursor, many.map((p) => asSent(p, true)))));
    const b200 = takeBase(await callBaseline(v1Body(baseCursor, many.map((p) => asSent(p, true)))));
    clearFlags(many);
    if (o200.body.updatedPieces.length !== 200) throw new Error(`ours accepted ${o200.body.updatedPieces.length} of 200 edits`);
    add({ metric: "write units, push of 200 edits", n, ours: o200.write, baseline: b200.write, unit: "WCU", better: "lower", note: `${WRITE_NOTE}; baseline: blind BatchWrite, as DynamoDB Local reports it` });
    add({ metric: "DynamoDB requests, push of 200 edits", n, ours: o200.requests, baseline: b200.requests, unit: "requests", better: "lower", note: pagesNote(b200, 2) });
    add({ metric: "bytes logged, push of 200 edits", n, ours: o200.logBytes, baseline: b200.logBytes, unit: "bytes", better: "lower" });
    }

    const tenProfile = (m: Measured, auth: number): SyncProfile => ({ readUnits: m.read, writeUnits: m.write, logBytes: m.logBytes, syncMs: m.ms, authorizerMs: auth });
    if (fullQuiet) {
      profiles.set(`${n}`, {
        variant: "v1 full request for no-change syncs, changes-only request for the edit sync",
        ours: tenProfile(fullQuiet.o, 0),
        baseline: tenProfile(fullQuiet.b, 0),
      });
    } else {
      profiles.set(`${n}`, { variant: "requests carrying only changed pieces (a full v1 request is over 6 MB)", ours: tenProfile(oq, 0), baseline: tenProfile(bq, 0) });
    }
    profiles.set(`${n}:ten`, { variant: "", ours: tenProfile(ot, 0), baseline: tenProfile(bt, 0) });
    progress(`measured syncs at ${n} pieces`);

    // ---- issue 13: the launch sync, as the app makes it (bench/launch.ts) ----
    await measureLaunch({
      n,
      userId: USER,
      ours,
      add,
      callOurs: (body) => callOurs(body, "when-over"),
      callBaseline,
      repertoire: () => local.map((piece) => ({ piece, oursVersion: oursVersion.get(piece.pieceId)! })),
      editElsewhere: async (count) => {
        const picked = editSome(count);
        const o = takeOurs(await callOurs(v1Body(oursCursor, picked.map((p) => asSent(p, true)))));
        takeBase(await callBaseline(v1Body(baseCursor, picked.map((p) => asSent(p, true)))));
        clearFlags(picked);
        if (o.body.updatedPieces.length !== count) throw new Error(`ours accepted ${o.body.updatedPieces.length} of ${count} edits made elsewhere`);
        return picked;
      },
      adopt: async (pieces) => {
        local.push(...pieces);
        await batchPut({ doc: docOf(baseClient), table: baseTable, log: () => undefined }, pieces.map((p) => ({ ...p, locallyModified: false })));
      },
      deviceClockMs: nextEditMs,
      holdBaselineClock: (ms) => (editClock = Math.max(editClock, ms)),
      baselineHolds: async (ids) => {
        const r = await docOf(baseClient).send(
          new BatchGetCommand({ RequestItems: { [baseTable]: { Keys: ids.map((pieceId) => ({ userId: USER, pieceId })), ConsistentRead: true } } }),
        );
        return r.Responses?.[baseTable]?.length ?? 0;
      },
    });
    progress(`measured the launch sync at ${n} pieces`);
  }

  // ---- a new device's initial sync of all 10,000 pieces ----
  const initial: { p2?: { sizes: number[]; received: number }; v1?: { sizes: number[]; received: number } } = {};
  const n = local.length;
  const want = new Set(local.map((p) => p.pieceId));
  {
    const got = new Set<string>();
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await callOurs({ operation: "sync", protocol: 2, limit: 2000, pieces: [], ...(cursor ? { cursor } : {}) });
      sizes.push(r.resultBytes);
      for (const p of r.body.serverPieces) got.add(p.pieceId);
      cursor = r.body.cursor;
      if (!r.body.hasMore) break;
    }
    const b = await callBaseline(v1Body(undefined, []));
    const baseFits = b.resultBytes < LAMBDA_LIMIT_BYTES;
    const NOTE_P2 = "ours: protocol 2 paging, limit 2000; baseline: one v1 response with everything";
    add({ metric: "initial sync: requests", n, ours: sizes.length, baseline: 1, unit: "requests", better: "none", note: NOTE_P2 });
    add({ metric: "initial sync: largest response", n, ours: Math.max(...sizes), baseline: b.resultBytes, unit: "bytes", better: "lower", note: `proxy result JSON as Lambda returns it; limit ${LAMBDA_LIMIT_BYTES} bytes${baseFits ? "" : "; the baseline's is over it, so Lambda fails the request"}` });
    add({ metric: "initial sync: pieces received", n, ours: [...got].filter((id) => want.has(id)).length, baseline: baseFits ? b.body.serverPieces.length : 0, unit: "pieces", better: "higher", note: baseFits ? undefined : `baseline built ${b.body.serverPieces.length} but its response cannot leave Lambda` });
    initial.p2 = { sizes, received: [...got].filter((id) => want.has(id)).length };
  }
  {
    // v1 as the server can serve it: successive syncs, each resuming at its syncedAt.
    const got = new Set<string>();
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const r = await callOurs(v1Body(cursor, []));
      sizes.push(r.resultBytes);
      for (const p of r.body.serverPieces) got.add(p.pieceId);
      if (r.body.serverPieces.length === 0 && cursor === isoSecond(Date.parse(r.body.syncedAt))) break;
      cursor = isoSecond(Date.parse(r.body.syncedAt));
    }
    add({ metric: "initial sync v1: requests", n, ours: sizes.length, baseline: null, unit: "requests", better: "none", note: "v1 syncs with requests carrying no pieces, each resuming at the last syncedAt (the last one confirms nothing is left)" });
    add({ metric: "initial sync v1: largest response", n, ours: Math.max(...sizes), baseline: null, unit: "bytes", better: "lower" });
    add({ metric: "initial sync v1: pieces received", n, ours: [...got].filter((id) => want.has(id)).length, baseline: null, unit: "pieces", better: "higher" });
    initial.v1 = { sizes, received: [...got].filter((id) => want.has(id)).length };
  }
  {
    // A shipped v1 device resends every piece it holds: after two pages its request
    // passes 6 MB, whatever the server does.
    const held = new Map<string, any>();
    let cursor: string | undefined;
    let requests = 0;
    let stoppedBy = "complete";
    for (; requests < 50; ) {
      const body = v1Body(cursor, [...held.values()]);
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (bytes > LAMBDA_LIMIT_BYTES) {
        stoppedBy = `its next request is ${(bytes / 1e6).toFixed(1)} MB, over the 6 MB limit`;
        break;
      }
      requests++;
      const r = await callOurs(body);
      for (const p of r.body.serverPieces) held.set(p.pieceId, { ...p, locallyModified: false });
      const next = isoSecond(Date.parse(r.body.syncedAt));
      if (r.body.serverPieces.length === 0 && next === cursor) break;
      cursor = next;
    }
    add({ metric: "initial sync, shipped v1 app: pieces received", n, ours: held.size, baseline: 0, unit: "pieces", better: "higher", note: `a v1 app resends its whole repertoire each sync; stopped: ${stoppedBy} after ${requests} requests` });
  }
  progress("measured initial syncs");

  // ---- authorizer ----
  const auth = await measureAuth({ verifications: 1000, runs: 3 });
  authorizerMs = { ours: auth.oursMs, baseline: auth.baselineMs };
  add({ metric: "authorizer: JWKS fetches per 1,000 verifications", n: null, ours: auth.oursFetches, baseline: auth.baselineFetches, unit: "fetches", better: "lower", note: "one warm container; baseline creates its jose key set per call" });
  add({ metric: "authorizer: verifications per second", n: null, ours: auth.oursPerSecond, baseline: auth.baselinePerSecond, unit: "verifications/s", better: "higher", runs: [auth.runs, auth.runs], note: "JWKS on 127.0.0.1: a real fetch from Google costs tens of ms more per baseline call" });
  add({ metric: `authorizer: JWKS fetches with a ${auth.period.periodMs} ms cache period over ${auth.period.elapsedMs} ms`, n: null, ours: auth.period.fetches, baseline: null, unit: "fetches", better: "lower", note: `at most ${auth.period.allowed} allowed (one per period)` });
  progress("measured the authorizer");

  // ---- packaged Lambdas and the CLI ----
  const lambdas = measureLambdas(5);
  for (const l of lambdas) {
    add({ metric: `archive size: ${l.name}`, n: null, ours: l.zipBytes, baseline: null, unit: "bytes (zip)", better: "lower", note: `index.js ${l.indexBytes} bytes` });
    add({ metric: `module init: ${l.name}`, n: null, ours: l.initMs, baseline: null, unit: "ms", better: "lower", runs: [l.runs, 0], note: "require() of the packaged index.js in a fresh Node process" });
  }
  const cli = measureCliStartup(7);
  add({ metric: "haumana-ops --help start-up", n: null, ours: cli.cliMs, baseline: null, unit: "ms", better: "lower", runs: [cli.runs, 0], note: `wall time of a fresh process; bare \`node -e 0\` takes ${cli.nodeMs.toFixed(0)} ms here` });
  progress("measured archives and start-up");

  // ---- modelled cost per active user-month ----
  for (const key of ["1000", "10000"]) {
    const quiet = profiles.get(key)!;
    const ten = profiles.get(`${key}:ten`)!;
    const withAuth = (p: SyncProfile, ms: number): SyncProfile => ({ ...p, authorizerMs: ms });
    const o = costPerUserMonth(withAuth(quiet.ours, authorizerMs.ours), withAuth(ten.ours, authorizerMs.ours));
    const b = costPerUserMonth(withAuth(quiet.baseline, authorizerMs.baseline), withAuth(ten.baseline, authorizerMs.baseline));
    const note = `${USAGE.syncsPerDay} syncs/day, ${USAGE.changeSyncsPerDay} of them pushing 10 edits; ${quiet.variant}; durations as measured on DynamoDB Local`;
    add({ metric: "cost per active user-month", n: Number(key), ours: o.total, baseline: b.total, unit: "USD", better: "lower", note });
    add({ metric: "cost per active user-month: DynamoDB", n: Number(key), ours: o.dynamoDb, baseline: b.dynamoDb, unit: "USD", better: "lower" });
    add({ metric: "cost per active user-month: CloudWatch Logs", n: Number(key), ours: o.logs, baseline: b.logs, unit: "USD", better: "lower" });
    add({ metric: "cost per active user-month: Lambda", n: Number(key), ours: o.lambda, baseline: b.lambda, unit: "USD", better: "lower" });
    add({ metric: "cost per active user-month: API Gateway", n: Number(key), ours: o.apiGateway, baseline: b.apiGateway, unit: "USD", better: "lower" });
  }

  // ---- targets ----
  const get = (metric: string, n: number | null) => {
    const e = entries.find((x) => x.metric === metric && x.n === n);
    if (!e) throw new Error(`no figure ${metric} at ${n}`);
    return e;
  };
  const q100 = get("read units, no-change sync", 100);
  const q10k = get("read units, no-change sync", 10_000);
  const maxOursLog = Math.max(...oursLogPerSync, ...entries.filter((e) => e.metric.startsWith("bytes logged")).map((e) => e.ours ?? 0));
  const targets: Target[] = [
    {
      name: "no-change sync at 10,000 pieces: >= 100x fewer read units than the baseline",
      pass: (q10k.baseline ?? 0) >= 100 * (q10k.ours ?? Infinity),
      detail: `${q10k.ours} vs ${q10k.baseline} RCU (${((q10k.baseline ?? 0) / (q10k.ours || 1)).toFixed(0)}x)`,
    },
    {
      name: "no-change sync read units flat from 100 to 10,000 pieces",
      pass: SIZES.every((n) => (get("read units, no-change sync", n).ours ?? Infinity) <= (q100.ours ?? 0) * 1.1),
      detail: SIZES.map((n) => `${n}: ${get("read units, no-change sync", n).ours}`).join(", ") + " RCU",
    },
    {
      name: "initial sync of 10,000 pieces: every response < 6 MB and every piece received",
      pass: Math.max(...initial.p2!.sizes) < LAMBDA_LIMIT_BYTES && initial.p2!.received === n,
      detail: `protocol 2: ${initial.p2!.sizes.length} responses, largest ${initial.p2!.sizes.length ? Math.max(...initial.p2!.sizes) : 0} bytes, ${initial.p2!.received}/${n} pieces`,
    },
    {
      name: "< 1 KB logged per sync",
      pass: maxOursLog < 1024,
      detail: `largest: ${maxOursLog} bytes over ${oursLogPerSync.length} measured syncs since the last seeding`,
    },
    {
      name: "<= 1 JWKS fetch per cache period",
      pass: auth.oursFetches <= 1 && auth.period.fetches <= auth.period.allowed,
      detail: `${auth.oursFetches} fetch over 1,000 verifications; ${auth.period.fetches} over ${auth.period.elapsedMs} ms with a ${auth.period.periodMs} ms period`,
    },
  ];
  const launchBytes = (n: number) => get(LAUNCH.nothingNewBytes, n).ours ?? Infinity;
  const launchReads = (n: number) => get(LAUNCH.nothingNewReads, n).ours ?? Infinity;
  targets.push({
    name: `cold-start sync with nothing new: < ${NOTHING_NEW_MAX_RESULT_BYTES / 1024} KB answered and <= ${NOTHING_NEW_MAX_READ_UNITS} read units at every n`,
    pass: SIZES.every((n) => launchBytes(n) < NOTHING_NEW_MAX_RESULT_BYTES && launchReads(n) <= NOTHING_NEW_MAX_READ_UNITS),
    detail: SIZES.map((n) => `${n}: ${launchBytes(n)} bytes, ${launchReads(n)} RCU`).join("; "),
  });
  for (const [metric, what] of [
    [LAUNCH.dayBytes, "response bytes"],
    [LAUNCH.dayReads, "read units"],
  ] as const) {
    const e = get(metric, 10_000);
    targets.push({
      name: `a day of the app at 10,000 pieces: >= 100x fewer ${what} than the baseline`,
      pass: (e.baseline ?? 0) >= 100 * (e.ours ?? Infinity),
      detail: `${e.ours} vs ${e.baseline} ${e.unit} (${((e.baseline ?? 0) / (e.ours || 1)).toFixed(0)}x)`,
    });
  }
  const seconds = (Date.now() - started) / 1000;
  targets.push({ name: "bench finishes in < 10 minutes", pass: seconds < 600, detail: `${seconds.toFixed(0)} s` });

  const results: Results = { entries, targets, seconds };
  printTable(results, PRICES);
  const out = path.resolve(__dirname, "..", "bench-results.json");
  fs.writeFileSync(out, JSON.stringify(entries.map(toJsonEntry), null, 2) + "\n");
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out)}\n`);
  ours.restoreLogs();
  return targets.every((t) => t.pass) ? 0 : 1;
}

/**
 * DynamoDB Local answers a whole Query in one page; DynamoDB stops a page at 1 MB
 * (128 eventually consistent read units), so on AWS the baseline's full Queries take
 * more requests than measured here.
 */
function pagesNote(m: Measured, queries: number): string {
  const perQuery = m.read / queries;
  const est = m.requests - queries + queries * Math.max(1, Math.ceil(perQuery / 128));
  return `baseline measured on DynamoDB Local, which returns a Query in one page; DynamoDB pages at 1 MB, so about ${est} requests on AWS`;
}

function units(m: CapacityMeter) {
  return { read: m.read, write: m.write, requests: m.requests };
}

function toJsonEntry(e: Entry) {
  const r = (x: number | null) => (x === null || !Number.isFinite(x) ? null : Number(x.toPrecision(6)));
  const out: Record<string, unknown> = { metric: e.metric, n: e.n, ours: r(e.ours), baseline: r(e.baseline), ratio: r(ratioOf(e)), unit: e.unit };
  if (e.runs) out.runs = { ours: e.runs[0], baseline: e.runs[1] || null };
  if (e.note) out.note = e.note;
  return out;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    process.exit(2);
  },
);
