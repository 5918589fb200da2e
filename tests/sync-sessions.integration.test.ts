// POST /sessions on DynamoDB Local: idempotent by sessionId, a later end time
// updates the session, every device learns every session.
import { cutToSeconds, Device, DeviceClock } from "./helpers/device";
import { createHarness, Harness } from "./helpers/sync-harness";

let h: Harness;
beforeAll(async () => (h = await createHarness("sessions")));
afterAll(async () => h.done());
let n = 0;
const newUser = () => `sess-user-${++n}`;
const pair = (user: string) => {
  const clock = new DeviceClock();
  return [new Device("a", user, h.transport(user), clock), new Device("b", user, h.transport(user), clock)];
};

test("a session recorded on one device reaches the other, in the contract's shape", async () => {
  const user = newUser();
  const [a, b] = pair(user);
  const p = a.createPiece();
  const s = a.recordSession(p.pieceId);
  const r = await a.syncSessions();
  expect(r.status).toBe(200);
  expect(r.body.uploadedSessions).toEqual([s.sessionId]);
  expect(Object.keys(r.body).sort()).toEqual(["serverSessions", "syncedAt", "uploadedSessions"]);
  await b.syncSessions();
  expect(b.sessions.get(s.sessionId)?.s).toEqual({ ...s, userId: user });
});

test("resending a session changes nothing; an end time that arrives later is kept", async () => {
  const user = newUser();
  const [a, b] = pair(user);
  const p = a.createPiece();
  const open = a.recordSession(p.pieceId, false);
  await a.syncSessions({ loseResponse: true });
  await a.syncSessions(); // retry after a lost response
  await b.syncSessions();
  expect(b.sessions.size).toBe(1);
  expect(b.sessions.get(open.sessionId)!.s.endedAt).toBeUndefined();

  // The app saves the end of a session it already sent without marking it unsent:
  // its next sync sends nothing, so the server never learns the end time.
  a.endSession(open.sessionId);
  const ended = cutToSeconds(a.sessions.get(open.sessionId)!.s.endedAt!);
  const after = await a.syncSessions();
  expect(after.body.uploadedSessions).toEqual([]);
  // An end time that does arrive later (sent with the session) is kept...
  const withEnd = await h.call("/sessions", user, { sessions: [{ ...open, startedAt: cutToSeconds(open.startedAt), createdAt: cutToSeconds(open.createdAt), endedAt: ended }] });
  expect(withEnd.body.uploadedSessions).toEqual([open.sessionId]);
  // ...and a stale retry without the end time must not clear it.
  const stale = await h.call("/sessions", user, { sessions: [{ ...open, startedAt: cutToSeconds(open.startedAt), createdAt: cutToSeconds(open.createdAt), endedAt: undefined }] });
  expect(stale.status).toBe(200);
  const c = new Device("c", user, h.transport(user));
  await c.syncSessions();
  expect(c.sessions.size).toBe(1);
  expect(c.sessions.get(open.sessionId)!.s.endedAt).toBe(new Date(Date.parse(ended)).toISOString());
});

test("another user's sessions are never listed", async () => {
  const [a] = pair(newUser());
  const [m] = pair(newUser());
  a.recordSession(a.createPiece().pieceId);
  await a.syncSessions();
  await m.syncSessions();
  expect(m.sessions.size).toBe(0);
});

test("protocol 2 pages sessions since a cursor", async () => {
  const user = newUser();
  const [a] = pair(user);
  const p = a.createPiece();
  for (let i = 0; i < 7; i++) a.recordSession(p.pieceId);
  await a.syncSessions();
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10; i++) {
    const r = await h.call("/sessions", user, { sessions: [], protocol: 2, limit: 3, ...(cursor ? { cursor } : {}) });
    expect(r.status).toBe(200);
    expect(r.body.serverSessions.length).toBeLessThanOrEqual(3);
    seen.push(...r.body.serverSessions.map((s: any) => s.sessionId));
    cursor = r.body.cursor;
    if (!r.body.hasMore) break;
  }
  expect(new Set(seen)).toEqual(new Set(a.sessions.keys()));
  expect(seen).toHaveLength(7);
  // Caught up: a new session, and only it, arrives after the cursor.
  const later = a.recordSession(p.pieceId);
  await a.syncSessions();
  const r = await h.call("/sessions", user, { sessions: [], protocol: 2, cursor });
  expect(r.body.serverSessions.map((s: any) => s.sessionId)).toEqual([later.sessionId]);
});
