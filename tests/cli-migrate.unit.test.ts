// haumana-ops migrate, the parts that need no AWS: old items turned into the
// requests a sync takes (every quirk of the old tables), owners, duplicates across
// owners, the verification's rules, and what the output says.
import { buildUsers, isCognitoSub, UserData } from "../cli/actions/migrate-source";
import { Finding, verifyUser } from "../cli/actions/migrate-verify";
import { renderMigrate, MigrateResult } from "../cli/actions/migrate";
import { EXIT } from "../cli/exit-codes";
import { colours } from "../cli/ui";
import { oldSessionKey, parseSessionSortKey, userOfSessionKey } from "../lib/old-backend";

const GOOGLE = "109876543210987654321";
const COGNITO = "3f6c1c4e-2b7a-4d6e-9a51-0c8f2d7e4b19";
const P1 = "5A1F3C2E-8B4D-4E6F-9A0B-1C2D3E4F5A6B";
const P2 = "6B2F3C2E-8B4D-4E6F-9A0B-1C2D3E4F5A6B";
const S1 = "7C3F3C2E-8B4D-4E6F-9A0B-1C2D3E4F5A6B";

function oldPiece(over: Record<string, unknown> = {}) {
  return {
    userId: GOOGLE,
    pieceId: P1,
    title: "Aloha ʻOe",
    category: "mele",
    lyrics: "Haʻaheo ka ua i nā pali",
    language: "haw",
    includeInPractice: true,
    isFavorite: false,
    createdAt: "2025-06-01T10:00:00Z",
    modifiedAt: "2025-07-02T10:00:00.123Z",
    lastSyncedAt: "2025-07-02T10:00:00.123Z",
    version: 7,
    locallyModified: true,
    ...over,
  };
}

function oldSession(over: Record<string, unknown> = {}, owner = GOOGLE) {
  const startedAt = "2025-07-03T08:00:00Z";
  return { ...oldSessionKey(owner, startedAt, S1), sessionId: S1, userId: owner, pieceId: P1, startedAt, createdAt: startedAt, syncedAt: "2025-07-03T08:00:02.345Z", ...over };
}

const identity = (...owners: string[]) => new Map(owners.map((o) => [o, o]));

describe("old items into sync requests", () => {
  test("a piece as the app would send it: upper-case id, empty optional fields left out, never marked modified", () => {
    const { users } = buildUsers(
      [oldPiece({ pieceId: P1.toLowerCase(), language: "", notes: null, author: "", englishTranslation: "Farewell to thee" })],
      [],
      identity(GOOGLE),
    );
    const u = users.get(GOOGLE)!;
    expect(u.refused).toEqual([]);
    expect(u.pieces).toHaveLength(1);
    const p = u.pieces[0];
    expect(p.pieceId).toBe(P1);
    expect(p).not.toHaveProperty("language");
    expect(p).not.toHaveProperty("notes");
    expect(p).not.toHaveProperty("author");
    expect(p.englishTranslation).toBe("Farewell to thee");
    expect(p.locallyModified).toBe(false);
    // Kept as stored: the old version (it went down or jumped) and both date forms.
    expect(p.version).toBe(7);
    expect(p.modifiedAt).toBe("2025-07-02T10:00:00.123Z");
    expect(p.createdAt).toBe("2025-06-01T10:00:00Z");
  });

  test("items a sync would refuse are refused with its code, naming the field", () => {
    const { users } = buildUsers(
      [
        oldPiece({ category: "hula" }),
        oldPiece({ pieceId: P2, version: "90071992547409930000" }), // a number past 2^53, kept as its digits by the scan
      ],
      [],
      identity(GOOGLE),
    );
    const u = users.get(GOOGLE)!;
    expect(u.pieces).toEqual([]);
    expect(u.refused).toEqual([
      expect.objectContaining({ kind: "piece", id: P1, code: "invalid_piece", message: expect.stringMatching(/^category/) }),
      expect.objectContaining({ kind: "piece", id: P2, code: "invalid_piece", message: expect.stringMatching(/^version/) }),
    ]);
  });

  test("a piece held under a Cognito sub and the Google sub is copied once: the copy the old server wrote last", () => {
    const older = oldPiece({ userId: COGNITO, title: "older", lastSyncedAt: "2025-06-18T10:00:00.000Z", modifiedAt: "2025-06-18T09:59:00Z" });
    const newer = oldPiece({ title: "newer", lastSyncedAt: "2025-07-01T10:00:00.000Z", modifiedAt: "2025-07-01T10:00:00.000Z" });
    const { users } = buildUsers([older, newer], [], new Map([[GOOGLE, GOOGLE], [COGNITO, GOOGLE]]));
    const u = users.get(GOOGLE)!;
    expect(u.owners.sort()).toEqual([COGNITO, GOOGLE].sort());
    expect(u.pieces.map((p) => p.title)).toEqual(["newer"]);
    expect(u.supersededPieces).toEqual([P1]);
  });

  test("sessions: keys USER#/SESSION#, fields missing from the item taken from the sort key, createdAt from startedAt", () => {
    const s = oldSession();
    delete (s as any).sessionId;
    delete (s as any).startedAt;
    delete (s as any).createdAt;
    const { users } = buildUsers([], [s], identity(GOOGLE));
    expect(users.get(GOOGLE)!.sessions).toEqual([{ sessionId: S1, pieceId: P1, startedAt: "2025-07-03T08:00:00Z", createdAt: "2025-07-03T08:00:00Z" }]);
  });

  test("a session held under two owners is sent once, with the later end time of its copies", () => {
    const { users } = buildUsers(
      [],
      [oldSession({}, COGNITO), oldSession({ endedAt: "2025-07-03T08:30:00Z" }), oldSession({ endedAt: "2025-07-03T08:10:00Z" }, COGNITO)].slice(1),
      new Map([[GOOGLE, GOOGLE], [COGNITO, GOOGLE]]),
    );
    const u = users.get(GOOGLE)!;
    expect(u.sessions).toHaveLength(1);
    expect(u.sessions[0].endedAt).toBe("2025-07-03T08:30:00Z");
    expect(u.duplicateSessions).toBe(1);
  });

  test("a session item whose pk names no user is reported, never dropped", () => {
    const { users, unowned } = buildUsers([], [oldSession({ pk: "SOMETHING-ELSE" })], identity(GOOGLE));
    expect(users.size).toBe(0);
    expect(unowned).toEqual([expect.objectContaining({ kind: "session", id: S1, code: "invalid_session" })]);
  });

  test("owners not in the map (unresolved Cognito subs) are left to the caller", () => {
    const { users } = buildUsers([oldPiece({ userId: COGNITO })], [oldSession({}, COGNITO)], identity(GOOGLE));
    expect(users.size).toBe(0);
  });

  test("key formats and owner kinds", () => {
    expect(parseSessionSortKey(`SESSION#2025-07-03T08:00:00Z#${S1}`)).toEqual({ startedAt: "2025-07-03T08:00:00Z", sessionId: S1 });
    expect(parseSessionSortKey("SESSION#nothing")).toBeUndefined();
    expect(userOfSessionKey(`USER#${GOOGLE}`)).toBe(GOOGLE);
    expect(userOfSessionKey("USER#")).toBeUndefined();
    expect(isCognitoSub(COGNITO)).toBe(true);
    expect(isCognitoSub(GOOGLE)).toBe(false);
  });
});

describe("verification rules", () => {
  const user = (over: Partial<UserData> = {}): UserData => {
    const { users } = buildUsers([oldPiece()], [oldSession({ endedAt: "2025-07-03T08:30:00Z" })], identity(GOOGLE));
    return { ...users.get(GOOGLE)!, ...over };
  };
  /** The new item as importPieces stores it for the old piece above. */
  const stored = (over: Record<string, unknown> = {}) => ({
    userId: GOOGLE,
    pieceId: P1,
    title: "Aloha ʻOe",
    category: "mele",
    lyrics: "Haʻaheo ka ua i nā pali",
    language: "haw",
    includeInPractice: true,
    isFavorite: false,
    createdAt: "2025-06-01T10:00:00Z",
    modifiedAt: "2025-07-02T10:00:00.123Z",
    version: 2 ** 20,
    fieldModifiedAt: {},
    ...over,
  });
  const session = (over: Record<string, unknown> = {}) => ({
    userId: GOOGLE,
    sessionId: S1,
    pieceId: P1,
    startedAt: "2025-07-03T08:00:00Z",
    createdAt: "2025-07-03T08:00:00Z",
    endedAt: "2025-07-03T08:30:00Z",
    ...over,
  });
  const check = (pieces: Record<string, any>[], sessions: Record<string, any>[], u = user()) =>
    verifyUser(u, new Map(pieces.map((p) => [p.pieceId, p])), new Map(sessions.map((s) => [s.sessionId, s])));
  const problems = (fs: Finding[]) => fs.map((f) => `${f.kind} ${f.field ?? ""}: ${f.problem}`);

  test("the same piece and session: no difference, no note", () => {
    const v = check([stored()], [session()]);
    expect(v.differences).toEqual([]);
    expect(v.notes).toEqual([]);
    expect(v.check).toEqual({ userId: GOOGLE, pieces: { old: 1, new: 1, same: 1 }, sessions: { old: 1, new: 1, same: 1 }, ok: true });
  });

  test("missing items are differences", () => {
    const v = check([], []);
    expect(problems(v.differences)).toEqual(["piece : missing", "session : missing"]);
    expect(v.check.ok).toBe(false);
  });

  test("a field with another value is a difference, unless the new backend's value was edited later", () => {
    const lost = check([stored({ title: "other" })], [session()]);
    expect(lost.differences).toEqual([expect.objectContaining({ field: "title", old: "Aloha ʻOe", new: "other", problem: "another value" })]);
    const later = check([stored({ title: "edited since", modifiedAt: "2025-11-01T00:00:00.000Z", fieldModifiedAt: { title: "2025-11-01T00:00:00.000Z" } })], [session()]);
    expect(later.differences).toEqual([]);
    expect(problems(later.notes)).toEqual([expect.stringMatching(/^piece title: changed on the new backend since/), "piece modifiedAt: another date (the copy a device pushed to the new backend)"]);
  });

  test("absent, empty and the default language compare as the app reads them", () => {
    const v = check([stored({ language: undefined, notes: "" })], [session()]);
    expect(v.differences).toEqual([]);
  });

  test("a version not above the old one is a difference", () => {
    expect(problems(check([stored({ version: 7 })], [session()]).differences)).toEqual([expect.stringMatching(/^piece version: not above the old version/)]);
  });

  test("sessions: an end time lost or earlier is a difference, a later one a note", () => {
    expect(problems(check([stored()], [session({ endedAt: undefined })]).differences)).toEqual(["session endedAt: the end time is missing"]);
    expect(problems(check([stored()], [session({ endedAt: "2025-07-03T08:20:00Z" })]).differences)).toEqual(["session endedAt: an earlier end time"]);
    const later = check([stored()], [session({ endedAt: "2025-07-03T09:00:00Z" })]);
    expect(later.differences).toEqual([]);
    expect(problems(later.notes)).toEqual(["session endedAt: ended later on the new backend"]);
    expect(problems(check([stored()], [session({ pieceId: P2 })]).differences)).toEqual(["session pieceId: another value"]);
  });

  test("a tombstone is a difference unless the delete is later than the old edit", () => {
    expect(problems(check([stored({ deleted: true, modifiedAt: "2025-07-01T00:00:00.000Z" })], [session()]).differences)).toEqual(["piece deleted: deleted on the new backend"]);
    const later = check([stored({ deleted: true, modifiedAt: "2025-12-01T00:00:00.000Z" })], [session()]);
    expect(later.differences).toEqual([]);
    expect(problems(later.notes)).toEqual(["piece deleted: deleted on the new backend since"]);
  });

  test("pieces created on the new backend count as new, not as differences; refused ones are differences", () => {
    const u = user({ refused: [{ userId: GOOGLE, kind: "piece", id: P2, code: "too_large", message: "too large" }] });
    const v = check([stored(), stored({ pieceId: "8D4F3C2E-8B4D-4E6F-9A0B-1C2D3E4F5A6B" })], [session()], u);
    expect(v.check.pieces).toEqual({ old: 2, new: 2, same: 1 });
    expect(problems(v.differences)).toEqual(["piece : not copied: too_large: too large"]);
  });
});

describe("output", () => {
  const base: MigrateResult = {
    exitCode: EXIT.FAILURE,
    stack: "prod",
    region: "us-west-2",
    account: { account: "123456789012", arn: "arn:aws:iam::123456789012:user/ops" },
    from: { pieces: "haumana-pieces", sessions: "haumana-sessions" },
    to: { pieces: "haumana-prod-pieces", sessions: "haumana-prod-sessions" },
    userPools: ["us-west-2_Au01WZBqZ"],
    read: { pieceItems: 12, sessionItems: 5, owners: 3, users: 2, supersededPieceCopies: 0, duplicateSessionCopies: 0 },
    owners: {
      resolved: [{ cognitoSub: COGNITO, userId: GOOGLE, userPool: "us-west-2_Au01WZBqZ" }],
      unresolved: [{ owner: "0b6c1c4e-2b7a-4d6e-9a51-0c8f2d7e4b19", reason: "no user has this sub in us-west-2_Au01WZBqZ", pieceItems: 2, sessionItems: 1 }],
    },
    pieces: { stored: 9, merged: 0, present: 0, refused: 1 },
    sessions: { written: 4, present: 0, refused: 0 },
    refused: [{ userId: GOOGLE, kind: "piece", id: P2, code: "invalid_piece", message: "category must be one of" }],
    dryRun: false,
    verification: {
      ok: false,
      users: [{ userId: GOOGLE, pieces: { old: 10, new: 9, same: 9 }, sessions: { old: 4, new: 4, same: 4 }, ok: false }],
      differences: [{ userId: GOOGLE, kind: "piece", id: P2, problem: "not copied: invalid_piece: category must be one of" }],
      notes: [],
    },
    ok: false,
    seconds: 3.2,
  };

  test("a run lists every difference and each unresolved owner, and says exit 1", () => {
    const text = renderMigrate(base, colours(false));
    expect(text).toContain("  pieces    9 stored, 0 merged with the copy there, 0 already there, 1 refused\n");
    expect(text).toContain("  owners    2 Cognito subs: 1 resolved through us-west-2_Au01WZBqZ, 1 not (2 pieces and 1 session not copied)\n");
    expect(text).toContain("✗ 2 differences:");
    expect(text).toContain("owner 0b6c1c4e-2b7a-4d6e-9a51-0c8f2d7e4b19: 2 pieces and 1 session not copied: no user has this sub in us-west-2_Au01WZBqZ");
    expect(text).toContain(`user ${GOOGLE}, piece ${P2}: not copied: invalid_piece: category must be one of`);
    expect(text).toMatch(/✗ Differences above \(3\.2 s\); exit 1\.$/);
  });

  test("a clean run says so; a dry run says nothing was written and how to copy", () => {
    const clean: MigrateResult = { ...base, owners: { resolved: [], unresolved: [] }, refused: [], ok: true, exitCode: EXIT.OK, verification: { ok: true, users: [], differences: [], notes: [] } };
    expect(renderMigrate(clean, colours(false))).toMatch(/✓ Every old piece and session is in the stack's tables/);
    const dry = renderMigrate({ ...clean, dryRun: true, verification: undefined }, colours(false));
    expect(dry).toMatch(/^Dry run: nothing was written/);
    expect(dry).toContain("  pieces    9 to store, 0 to merge with the copy there, 0 already there, 1 refused\n");
    expect(dry).toContain("To copy: haumana-ops migrate --from-pieces haumana-pieces --from-sessions haumana-sessions --user-pool us-west-2_Au01WZBqZ");
  });
});
