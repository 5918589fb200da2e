// haumana-ops migrate as a process, at scale: the old backend's tables (its key
// schemas and GSIs, lib/old-backend.ts) on a DynamoDB Local of this file's own,
// seeded with over 20,000 items across 40 users and every quirk of the contract;
// moto for Cognito (three users' items partly under their Cognito sub, one sub no
// pool knows) and STS. A device syncs with the new backend before the migration; the
// command refuses without --yes, counts with --dry-run, is killed right after a
// transaction landed, is run again (no duplicate, no gap, verified), and a second run
// writes nothing. Then simulated devices holding the old versions (local bumps,
// unsynced edits, an older state than the old server's, a piece the old server lost)
// and new devices sync through the real routes and converge with nothing lost.
import { AdminCreateUserCommand, AdminGetUserCommand, CognitoIdentityProviderClient, CreateUserPoolCommand } from "@aws-sdk/client-cognito-identity-provider";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONTENT_FIELDS, pickContent } from "../functions/core/merge";
import { toWire } from "../functions/core/pieces";
import { resourceNames } from "../lib/names";
import { readStackSettings } from "../lib/stack-config";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../lib/tables";
import { DynamoDBLocal, startDynamoDBLocal } from "../local/dynamodb-local";
import { buildCli, cliEnv, linkedBinDir, Run, runInTerminal, SPINNER_FRAMES } from "./helpers/cli";
import { Device, DeviceClock, LocalPiece } from "./helpers/device";
import { holdAfterTransactions } from "./helpers/hold-proxy";
import { MotoServer, startMoto } from "./helpers/moto";
import { createOldTables, GenUser, generateOldBackend, MS_DATES_SINCE, OldDataset, OldItem, OldTables, putAll, uuidFrom, rng } from "./helpers/old-backend";
import { createHarness, Harness } from "./helpers/sync-harness";
import { scanTable } from "./helpers/dynamo";

jest.setTimeout(600_000);

const names = resourceNames(readStackSettings("dev").namePrefix);
let ddb: DynamoDBLocal;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let moto: MotoServer;
let tmp: string;
let old: OldTables;
let ds: OldDataset;
let pool: string;
let harness: Harness;

const TEST_KEYS = { AWS_ACCESS_KEY_ID: "AKIDTESTONLY", AWS_SECRET_ACCESS_KEY: "test-secret-never-printed" };

beforeAll(async () => {
  buildCli();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "haumana-migrate-"));
  linkedBinDir(tmp);
  [ddb, moto] = await Promise.all([startDynamoDBLocal({ startTimeoutMs: 60000 }), startMoto()]);
  client = new DynamoDBClient({ endpoint: ddb.endpoint, region: "us-west-2", credentials: { accessKeyId: "local", secretAccessKey: "local" }, maxAttempts: 3 });
  doc = DynamoDBDocumentClient.from(client);
  await client.send(new CreateTableCommand(createTableInput(PIECES_TABLE, names.piecesTable)));
  await client.send(new CreateTableCommand(createTableInput(SESSIONS_TABLE, names.sessionsTable)));
  harness = await createHarness("migrate", { tables: { client, doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), piecesTable: names.piecesTable, sessionsTable: names.sessionsTable } });
});

afterAll(async () => {
  await harness?.done();
  client?.destroy();
  await Promise.all([ddb?.stop(), moto?.stop()]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The process environment: STS and Cognito at moto, DynamoDB at `dynamodb`. */
const env = (dynamodb = ddb.endpoint) => cliEnv(tmp, { AWS_ENDPOINT_URL: moto.endpoint, AWS_ENDPOINT_URL_DYNAMODB: dynamodb, ...TEST_KEYS });

function start(args: string[], dynamodb?: string): { child: ChildProcess; done: Promise<Run & { signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [path.join(tmp, "linked-bin", "haumana-ops"), ...args], { cwd: tmp, env: env(dynamodb), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const t0 = Date.now();
  const done = new Promise<Run & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      // Where the time went, for whoever tunes this suite.
      process.stderr.write(`migrate ${args.slice(-2).join(" ")}: ${code ?? signal} in ${Date.now() - t0} ms\n${stderr.split("\n").filter((l) => / in [\d.]+ s/.test(l)).join("\n")}\n`);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

const migrateArgs = () => ["migrate", "--stack", "dev", "--from-pieces", old.pieces, "--from-sessions", old.sessions, "--user-pool", pool];

const scan = (table: string) => scanTable(doc, table);
const targetPieces = async () => (await scan(names.piecesTable)).filter((i) => i.pieceId !== SYNC_STATE_KEY);
const targetSessions = () => scan(names.sessionsTable);
const byKey = (items: Record<string, any>[], range: string) => JSON.stringify([...items].sort((a, b) => `${a.userId}/${a[range]}`.localeCompare(`${b.userId}/${b[range]}`)));

// ---- the dataset ------------------------------------------------------------------

/** The users the devices below belong to. */
let cog: GenUser; // a Cognito-sub user, with the piece held under both owners
let plain: GenUser;
let win: GenUser; // syncs with the new backend before the migration
const validPieces = () => ds.users.reduce((n, u) => n + u.pieces.length, 0);
const validSessions = () => ds.users.reduce((n, u) => n + u.sessions.length, 0);
/** Old items of a user as the old server holds them last (for the duplicate piece, the copy written last). */
const latestItems = (u: GenUser) => u.pieces.map((p) => p.item);

test("the old tables hold over 20,000 items with every quirk the contract lists", async () => {
  const pc = await cognito();
  const subs: { userId: string; cognitoSub: string }[] = [];
  const r = rng(2025);
  for (let i = 0; i < 3; i++) {
    const userId = `1${String(Math.floor(r() * 1e15)).padStart(15, "0")}00000`;
    await pc.send(new AdminCreateUserCommand({ UserPoolId: pool, Username: `google_${userId}`, MessageAction: "SUPPRESS", UserAttributes: [{ Name: "email", Value: `u${i}@example.com` }] }));
    const u = await pc.send(new AdminGetUserCommand({ UserPoolId: pool, Username: `google_${userId}` }));
    subs.push({ userId, cognitoSub: u.UserAttributes!.find((a) => a.Name === "sub")!.Value! });
  }
  ds = generateOldBackend({ seed: 20250630, users: 40, piecesPerUser: [300, 400], sessionsPerUser: [150, 220], cognito: subs, unresolvedSub: uuidFrom(r).toLowerCase(), invalidPiece: true });
  [cog, plain, win] = [ds.users[0], ds.users[5], ds.users[6]];
  old = await createOldTables(client, "live");
  await putAll(client, old.pieces, ds.pieces);
  await putAll(client, old.sessions, ds.sessions);

  const pieces = await scan(old.pieces);
  const sessions = await scan(old.sessions);
  expect(pieces.length + sessions.length).toBeGreaterThanOrEqual(20_000);
  expect(new Set(pieces.map((p) => p.userId)).size).toBeGreaterThanOrEqual(40);
  const quirks = ds.users.flatMap((u) => u.pieces.map((p) => p.quirk.kind));
  for (const kind of ["small", "went-down", "jumped", "step", "big-step"]) expect(quirks).toContain(kind);
  expect(pieces.some((p) => /T\d\d:\d\d:\d\dZ$/.test(p.modifiedAt))).toBe(true);
  expect(pieces.some((p) => /\.\d{3}Z$/.test(p.modifiedAt) && Date.parse(p.modifiedAt) >= MS_DATES_SINCE)).toBe(true);
  expect(pieces.filter((p) => p.locallyModified === true).length).toBeGreaterThan(1000);
  expect(sessions.every((s) => s.pk.startsWith("USER#") && s.sk === `SESSION#${s.startedAt}#${s.sessionId}`)).toBe(true);
  expect(sessions.filter((s) => s.endedAt === undefined).length).toBeGreaterThan(sessions.length / 2);
  for (const s of subs) expect(pieces.some((p) => p.userId === s.cognitoSub)).toBe(true);
  expect(pieces.filter((p) => p.userId === ds.unresolved!.sub)).toHaveLength(5);
});

async function cognito(): Promise<CognitoIdentityProviderClient> {
  const c = new CognitoIdentityProviderClient(moto.clientConfig);
  pool = (await c.send(new CreateUserPoolCommand({ PoolName: "haumana-users-v2" }))).UserPool!.Id!;
  return c;
}

// ---- devices ------------------------------------------------------------------

const AFTER_CUTOVER = Date.parse("2025-11-01T09:00:00Z");

/** A piece as the app holds it after syncing with the old backend (empty optional fields left out; no language reads as haw). */
function appCopy(userId: string, item: OldItem, over: Partial<LocalPiece> = {}): LocalPiece {
  const p: any = {
    pieceId: item.pieceId,
    userId,
    title: item.title,
    category: item.category,
    lyrics: item.lyrics,
    language: item.language || "haw",
    includeInPractice: item.includeInPractice,
    isFavorite: item.isFavorite,
    createdAt: new Date(item.createdAt).toISOString(),
    modifiedAt: new Date(item.modifiedAt).toISOString(),
    version: item.version,
    locallyModified: false,
  };
  for (const k of ["englishTranslation", "author", "sourceUrl", "notes"]) if (item[k]) p[k] = item[k];
  return { ...p, ...over };
}

/** A device of `u` holding the old backend's state: every piece as last stored, every session already sent. */
function deviceWithOldState(name: string, u: GenUser, clockMs = AFTER_CUTOVER): Device {
  const d = new Device(name, u.userId, harness.transport(u.userId), new DeviceClock(clockMs));
  for (const item of latestItems(u)) d.pieces.set(item.pieceId, appCopy(u.userId, item));
  for (const s of u.sessions) {
    const local: any = { sessionId: s.sessionId, userId: u.userId, pieceId: s.pieceId, startedAt: new Date(s.startedAt).toISOString(), createdAt: new Date(s.startedAt).toISOString() };
    if (s.endedAt) local.endedAt = new Date(s.endedAt).toISOString();
    d.sessions.set(s.sessionId, { s: local, synced: true });
  }
  return d;
}

/** `p` as a device would hold it from before the old server's last write: an older title, older edit time, an older version. */
function olderState(u: GenUser, index: number): LocalPiece {
  const p = u.pieces[index];
  const edit = Date.parse(p.item.modifiedAt) - 3 * 86400_000;
  return appCopy(u.userId, p.item, {
    title: `${p.item.title} (before the last edit)`,
    modifiedAt: new Date(edit).toISOString(),
    version: p.quirk.heldBefore ?? Math.max(0, p.item.version - 1),
  });
}

let window: { device: Device; stale: string; edited: string; practised: string };

test("a device that syncs with the new backend before the migration pushes what it holds (an older state of one piece, an edit, a practice start)", async () => {
  const d = deviceWithOldState("early-phone", win);
  const [stale, edited, practised] = [win.pieces[1].item.pieceId, win.pieces[2].item.pieceId, win.pieces[3].item.pieceId];
  d.pieces.set(stale, olderState(win, 1));
  d.edit(edited, { title: "edited on the early phone after the cutover" });
  d.recordSession(practised, true);
  const r = await d.syncNow();
  expect(r.pieces.status).toBe(200);
  expect(r.sessions?.status).toBe(200);
  window = { device: d, stale, edited, practised };
  const held = (await targetPieces()).filter((i) => i.userId === win.userId);
  expect(held).toHaveLength(win.pieces.length);
  expect(held.find((i) => i.pieceId === stale)!.title).toMatch(/before the last edit/);
});

// ---- the command ------------------------------------------------------------------

let dry: any;

test("without a terminal and without --yes it shows the plan, writes nothing and exits 2", async () => {
  const before = [byKey(await targetPieces(), "pieceId"), byKey(await targetSessions(), "sessionId")];
  const r = await start(migrateArgs()).done;
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toContain(`AWS_ENDPOINT_URL_DYNAMODB is set: sending DYNAMODB requests to ${ddb.endpoint}`);
  expect(r.stderr).toMatch(/^Migrate$/m);
  expect(r.stderr).toMatch(new RegExp(`^  into +${names.piecesTable}, ${names.sessionsTable} \\(stack dev, us-west-2, account 123456789012\\)$`, "m"));
  expect(r.stderr).toContain("Nothing was changed: this changes AWS resources, and there is no terminal to ask for confirmation on.");
  expect(r.stderr).toMatch(/To go ahead, run: haumana-ops migrate .* --yes\n/);
  expect([byKey(await targetPieces(), "pieceId"), byKey(await targetSessions(), "sessionId")]).toEqual(before);
});

test("--dry-run counts what a run writes (the engine's own decisions) and writes nothing", async () => {
  const before = [byKey(await targetPieces(), "pieceId"), byKey(await targetSessions(), "sessionId")];
  const r = await start([...migrateArgs(), "--dry-run", "--json"]).done;
  expect(r.code).toBe(1); // an unresolvable owner and an invalid piece: a run could not copy everything
  dry = JSON.parse(r.stdout);
  expect(dry.dryRun).toBe(true);
  expect(dry.read).toEqual({
    pieceItems: ds.pieces.length,
    sessionItems: ds.sessions.length,
    owners: 40 + 3 + 1,
    users: 40,
    supersededPieceCopies: 1,
    duplicateSessionCopies: 0,
  });
  expect(dry.owners.resolved.map((o: any) => o.userId).sort()).toEqual(ds.users.filter((u) => u.cognitoSub).map((u) => u.userId).sort());
  expect(dry.owners.unresolved).toEqual([{ owner: ds.unresolved!.sub, pieceItems: 5, sessionItems: 3, reason: `no user has this sub in ${pool}` }]);
  // The early phone's pieces are there already: its older copy of one is merged with the old one.
  expect(dry.pieces).toEqual({ stored: validPieces() - win.pieces.length, merged: 1, present: win.pieces.length - 1, refused: 1 });
  expect(dry.sessions).toEqual({ written: validSessions(), present: 0, refused: 0 });
  expect(dry.refused).toEqual([{ userId: ds.invalid!.userId, kind: "piece", id: ds.invalid!.pieceId, code: "invalid_piece", message: expect.stringMatching(/^category/) }]);
  expect(dry.verification).toBeUndefined();
  expect([byKey(await targetPieces(), "pieceId"), byKey(await targetSessions(), "sessionId")]).toEqual(before);
});

let killedAt: { pieces: number; sessions: number; staleMerged: boolean };

test("a run killed right after a transaction landed (its answer never arrived) leaves only whole transactions", async () => {
  const proxy = await holdAfterTransactions(ddb.endpoint, 60);
  const run = start([...migrateArgs(), "--yes", "--json"], proxy.endpoint);
  const applied = await Promise.race([proxy.held, run.done.then((r) => Promise.reject(new Error(`finished before the kill: ${r.code} ${r.stderr}`)))]);
  expect(applied).toBe(60);
  run.child.kill("SIGKILL");
  const r = await run.done;
  await proxy.stop();
  expect(r.signal).toBe("SIGKILL");
  const pieces = (await targetPieces()).length;
  const sessions = (await targetSessions()).length;
  expect(pieces).toBeGreaterThan(win.pieces.length);
  expect(pieces).toBeLessThan(win.pieces.length + dry.pieces.stored);
  const stale = (await targetPieces()).find((i) => i.userId === win.userId && i.pieceId === window.stale)!;
  killedAt = { pieces, sessions, staleMerged: stale.title === win.pieces[1].item.title };
});

let resumed: any;

test("run again: it copies exactly what is missing, no duplicate, no gap, and verifies every user it could copy", async () => {
  const r = await start([...migrateArgs(), "--yes", "--json"]).done;
  expect(r.code).toBe(1);
  resumed = JSON.parse(r.stdout);
  expect(resumed.pieces).toEqual({
    stored: dry.pieces.stored - (killedAt.pieces - win.pieces.length),
    merged: killedAt.staleMerged ? 0 : 1,
    present: win.pieces.length + (killedAt.pieces - win.pieces.length) - (killedAt.staleMerged ? 0 : 1),
    refused: 1,
  });
  // The early phone's practice session is the one session the old tables lack.
  expect(resumed.sessions).toEqual({ written: dry.sessions.written - (killedAt.sessions - 1), present: killedAt.sessions - 1, refused: 0 });

  // What is not copied, and only that, is a difference: the piece a sync refuses, and the owner no pool knows.
  expect(resumed.verification.differences).toEqual([
    { userId: ds.invalid!.userId, kind: "piece", id: ds.invalid!.pieceId, problem: expect.stringMatching(/^not copied: invalid_piece: category/) },
  ]);
  expect(resumed.owners.unresolved).toHaveLength(1);
  expect(resumed.verification.users).toHaveLength(40);
  expect(resumed.verification.users.filter((u: any) => !u.ok).map((u: any) => u.userId)).toEqual([ds.invalid!.userId]);
  // Notes only where the early phone changed something on the new backend after the old one's last edit.
  expect(resumed.verification.notes.map((n: any) => `${n.id} ${n.field}`).sort()).toEqual(
    [`${window.edited} title`, `${window.edited} modifiedAt`, `${window.practised} modifiedAt`].sort(),
  );

  // No duplicate, no gap: each user holds exactly its old pieces and sessions, under its Google sub, once.
  const pieces = await targetPieces();
  const sessions = await targetSessions();
  const cognitoSubs = new Set([...ds.users.map((u) => u.cognitoSub), ds.unresolved!.sub].filter(Boolean));
  expect(pieces.some((p) => cognitoSubs.has(p.userId))).toBe(false);
  expect(sessions.some((s) => cognitoSubs.has(s.userId))).toBe(false);
  for (const u of ds.users) {
    expect(pieces.filter((p) => p.userId === u.userId).map((p) => p.pieceId).sort()).toEqual(u.pieces.map((p) => p.item.pieceId).sort());
    const mine = sessions.filter((s) => s.userId === u.userId).map((s) => s.sessionId);
    expect(mine.sort()).toEqual([...u.sessions.map((s) => s.sessionId), ...(u === win ? [...window.device.sessions.keys()].filter((id) => !u.sessions.some((s) => s.sessionId === id)) : [])].sort());
  }
  // Copied pieces keep the old edit and creation times to the millisecond, and carry a version above the old one.
  const oldById = new Map(ds.users.filter((u) => u !== win).flatMap((u) => u.pieces.map((p) => [p.item.pieceId, p.item] as const)));
  for (const p of pieces.filter((x) => oldById.has(x.pieceId))) {
    const o = oldById.get(p.pieceId)!;
    expect([p.pieceId, Date.parse(p.modifiedAt), Date.parse(p.createdAt), p.version > o.version]).toEqual([p.pieceId, Date.parse(o.modifiedAt), Date.parse(o.createdAt), true]);
  }
  // The piece held under both owners is the copy the old server wrote last.
  expect(pieces.find((p) => p.pieceId === ds.duplicate!.pieceId)!.title).toBe(ds.duplicate!.latestTitle);
  // The early phone's older copy was merged away by the old backend's later edit; its own later edit stays.
  expect(pieces.find((p) => p.pieceId === window.stale)!.title).toBe(win.pieces[1].item.title);
  expect(pieces.find((p) => p.pieceId === window.edited)!.title).toBe("edited on the early phone after the cutover");
});

test("a second run writes nothing", async () => {
  const before = [byKey(await scan(names.piecesTable), "pieceId"), byKey(await targetSessions(), "sessionId")];
  const r = await start([...migrateArgs(), "--yes", "--json"]).done;
  expect(r.code).toBe(1);
  const again = JSON.parse(r.stdout);
  expect(again.pieces).toEqual({ stored: 0, merged: 0, present: validPieces(), refused: 1 });
  expect(again.sessions).toEqual({ written: 0, present: validSessions(), refused: 0 });
  expect(again.verification.differences).toEqual(resumed.verification.differences);
  // Not one item changed: no version, change key or sync state moved.
  expect([byKey(await scan(names.piecesTable), "pieceId"), byKey(await targetSessions(), "sessionId")]).toEqual(before);
});

// ---- devices after the migration ------------------------------------------------------

test("devices holding the old versions (local bumps, unsynced edits, an older state, a piece the old server lost) and new devices converge with nothing lost", async () => {
  const expected = new Map<string, Map<string, Record<string, unknown>>>();
  const expectPieces = (u: GenUser) => {
    const m = new Map(latestItems(u).map((it) => [it.pieceId, pickContent(appCopy(u.userId, it)) as Record<string, unknown>]));
    expected.set(u.userId, m);
    return m;
  };
  const devices: Device[] = [];
  const created = new Map<string, Set<string>>();
  const addSession = (u: GenUser, id: string) => created.set(u.userId, new Set([...(created.get(u.userId) ?? []), id]));

  // The Cognito-sub user: its phone practised and toggled a favourite, its tablet edited and
  // created a piece, an old iPad holds an older state (and the older copy of the piece held under both owners).
  const ec = expectPieces(cog);
  const phone = deviceWithOldState("phone", cog);
  const p = cog.pieces.map((x) => x.item.pieceId).filter((id) => id !== ds.duplicate!.pieceId);
  addSession(cog, phone.recordSession(p[1], true).sessionId);
  addSession(cog, phone.recordSession(p[2], false).sessionId);
  phone.toggleFavorite(p[3]);
  ec.get(p[3])!.isFavorite = !ec.get(p[3])!.isFavorite;
  const tablet = deviceWithOldState("tablet", cog, AFTER_CUTOVER + 3600_000);
  tablet.edit(p[4], { title: "renamed on the tablet" });
  tablet.edit(p[5], { notes: "notes from the tablet" });
  ec.get(p[4])!.title = "renamed on the tablet";
  ec.get(p[5])!.notes = "notes from the tablet";
  const fresh = tablet.createPiece({ title: "new on the tablet" });
  ec.set(fresh.pieceId, pickContent(fresh) as Record<string, unknown>);
  const ipad = deviceWithOldState("old-ipad", cog);
  const i6 = cog.pieces.findIndex((x) => x.item.pieceId === p[6]);
  ipad.pieces.set(p[6], olderState(cog, i6));
  const olderCopy = ds.pieces.find((it) => it.pieceId === ds.duplicate!.pieceId && it.userId === cog.cognitoSub)!;
  ipad.pieces.set(ds.duplicate!.pieceId, appCopy(cog.userId, olderCopy));
  devices.push(phone, tablet, ipad);

  // An ordinary user: a phone holding a piece the old server acknowledged but never stored, and a practice start on a piece whose version jumped.
  const ep = expectPieces(plain);
  const phone2 = deviceWithOldState("phone-2", plain);
  const lost = appCopy(plain.userId, { ...plain.pieces[0].item, pieceId: uuidFrom(rng(99)), title: "acknowledged, never stored", version: 5 });
  phone2.pieces.set(lost.pieceId, lost);
  ep.set(lost.pieceId, pickContent(lost) as Record<string, unknown>);
  const jumped = plain.pieces.find((x) => x.quirk.kind === "jumped")!.item.pieceId;
  addSession(plain, phone2.recordSession(jumped, true).sessionId);
  devices.push(phone2);

  // The user whose phone synced before the migration: that phone goes on.
  const ew = expectPieces(win);
  ew.get(window.edited)!.title = "edited on the early phone after the cutover";
  for (const id of window.device.sessions.keys()) if (!win.sessions.some((s) => s.sessionId === id)) addSession(win, id);
  devices.push(window.device);

  // Every device syncs until quiet, three rounds; then a new device per user signs in.
  for (let round = 0; round < 3; round++) for (const d of devices) await d.syncUntilQuiet();
  const newcomers = [cog, plain, win].map((u) => new Device(`new-${u.userId}`, u.userId, harness.transport(u.userId), new DeviceClock(AFTER_CUTOVER + 86400_000)));
  for (const d of newcomers) await d.syncUntilQuiet();
  devices.push(...newcomers);
  for (const d of devices) await d.syncUntilQuiet();

  const serverPieces = await targetPieces();
  const serverSessions = await targetSessions();
  for (const u of [cog, plain, win]) {
    const server = serverPieces.filter((i) => i.userId === u.userId && !i.deleted);
    const want = expected.get(u.userId)!;
    // The server holds each expected piece once, with the expected content: nothing lost, nothing duplicated.
    expect(server.map((i) => i.pieceId).sort()).toEqual([...want.keys()].sort());
    for (const item of server) {
      const got = pickContent(toWire(u.userId, item)) as Record<string, unknown>;
      expect({ id: item.pieceId, ...got }).toEqual({ id: item.pieceId, ...want.get(item.pieceId) });
    }
    // Every device of the user holds exactly the server's pieces (content and version) and sessions.
    const sessionIds = serverSessions.filter((s) => s.userId === u.userId).map((s) => s.sessionId).sort();
    expect(sessionIds).toEqual([...u.sessions.map((s) => s.sessionId), ...(created.get(u.userId) ?? [])].sort());
    for (const d of devices.filter((x) => x.userId === u.userId)) {
      expect([...d.pieces.keys()].sort()).toEqual(server.map((i) => i.pieceId).sort());
      for (const item of server) {
        const w = toWire(u.userId, item);
        const local = d.pieces.get(item.pieceId)!;
        expect({ device: d.name, id: item.pieceId, version: local.version, ...Object.fromEntries(CONTENT_FIELDS.map((f) => [f, d.content(item.pieceId)[f]])) }).toEqual({
          device: d.name,
          id: item.pieceId,
          version: w.version,
          ...Object.fromEntries(CONTENT_FIELDS.map((f) => [f, (w as any)[f]])),
        });
        expect(local.locallyModified).toBe(false);
      }
      expect([...d.sessions.keys()].sort()).toEqual(sessionIds);
    }
    // A new device learns every old end time.
    const newcomer = newcomers.find((d) => d.userId === u.userId)!;
    for (const s of u.sessions.filter((x) => x.endedAt)) expect(Date.parse(newcomer.sessions.get(s.sessionId)!.s.endedAt!)).toBe(Date.parse(s.endedAt));
  }
});

test("on a terminal it shows the plan with progress, asks, copies on yes, and leaves no spinner frame", async () => {
  const small = generateOldBackend({ seed: 5, users: 2, piecesPerUser: [20, 30], sessionsPerUser: [5, 10] });
  const tables = await createOldTables(client, "terminal");
  await putAll(client, tables.pieces, small.pieces);
  await putAll(client, tables.sessions, small.sessions);
  const r = await runInTerminal(["migrate", "--stack", "dev", "--from-pieces", tables.pieces, "--from-sessions", tables.sessions], {
    cwd: tmp,
    env: env(),
    steps: [{ when: /\(y\/N\)/, send: "y\r" }],
    timeoutMs: 120_000,
  });
  const screen = r.screen.join("\n");
  expect(r.code).toBe(0);
  expect(r.raw).toMatch(/Planning: \d+\/\d+ pieces/);
  expect(r.raw).toMatch(SPINNER_FRAMES);
  expect(screen).not.toMatch(SPINNER_FRAMES);
  expect(screen).toMatch(new RegExp(`^  pieces +${small.pieces.length} to store, 0 to merge with the copy there, 0 already there, 0 refused$`, "m"));
  expect(screen).toContain(`Copy into ${names.piecesTable} and ${names.sessionsTable} in account 123456789012? Yes`);
  expect(screen).toMatch(/^✓ Every old piece and session is in the stack's tables/m);
});
