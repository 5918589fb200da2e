// The bench's arithmetic, checked by hand: the cost model (bench/cost.ts), the
// write units it computes for transactions (bench/write-units.ts, also on the
// store's real commits) and its ratios.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as fs from "node:fs";
import * as path from "node:path";
import { costPerSync, costPerUserMonth, PRICES, SyncProfile, USAGE } from "../bench/cost";
import { ratioOf } from "../bench/report";
import { costTransaction, ItemImages, itemBytes, meterTransactions, transactWriteUnits } from "../bench/write-units";
import { bucketKey, bucketOf, emptyDigest, entryHash } from "../functions/core/digest";
import { PlannedWrite, Store } from "../functions/core/store";
import { VERSION_STEP } from "../lib/limits";
import { PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../lib/tables";

const quiet: SyncProfile = { readUnits: 1, writeUnits: 0, logBytes: 260, syncMs: 25.2, authorizerMs: 0.1 };
const busy: SyncProfile = { readUnits: 30, writeUnits: 270, logBytes: 262, syncMs: 40, authorizerMs: 0.1 };

test("one sync: an API request, two Lambda invocations billed by the started ms, units and log bytes", () => {
  const c = costPerSync(quiet);
  expect(c.apiGateway).toBeCloseTo(3.5e-6, 12);
  // 26 ms at 512 MB + 1 ms at 256 MB, and two requests.
  expect(c.lambda).toBeCloseTo((0.026 * 0.5 + 0.001 * 0.25) * 0.0000133334 + 2 * 0.2e-6, 15);
  expect(c.dynamoDb).toBeCloseTo(0.125e-6, 15);
  // Own lines plus Lambda's START/END/REPORT of both invocations.
  expect(c.logs).toBeCloseTo(((260 + 2 * USAGE.platformLogBytesPerInvocation) / 1024 ** 3) * 0.5, 15);
  expect(c.total).toBeCloseTo(c.apiGateway + c.lambda + c.dynamoDb + c.logs, 15);
});

test("a user-month: 29 quiet syncs and 1 that pushes edits, every day for 30 days", () => {
  const m = costPerUserMonth(quiet, busy);
  const a = costPerSync(quiet);
  const b = costPerSync(busy);
  expect(m.total).toBeCloseTo(870 * a.total + 30 * b.total, 12);
  expect(m.dynamoDb).toBeCloseTo((870 * 1 + 30 * 30) * 0.125e-6 + 30 * 270 * 0.625e-6, 12);
  expect(m.apiGateway).toBeCloseTo(900 * 3.5e-6, 12);
});

test("the bench's prices are the ones the README's cost table quotes", () => {
  const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
  const money = (n: number, digits = 2) => `$${n.toFixed(Math.max(digits, (String(n).split(".")[1] ?? "").length))}`;
  expect(readme).toContain(`${money(PRICES.apiGatewayRestPerMillionRequests)} per million requests`);
  expect(readme).toContain(`${money(PRICES.lambdaArmPerGbSecond)} per GB-s + ${money(PRICES.lambdaPerMillionRequests)} per million requests`);
  expect(readme).toContain(
    `${money(PRICES.dynamoDbPerMillionWriteRequestUnits)} per million WRU, ${money(PRICES.dynamoDbPerMillionReadRequestUnits)} per million RRU`,
  );
  expect(readme).toContain(`${money(PRICES.cloudWatchLogsIngestionPerGb)} per GB ingested`);
});

const PIECES = "bench-pieces";
const SESSIONS = "bench-sessions";
const schemaOf = (name: string) => (name === SESSIONS ? SESSIONS_TABLE : PIECES_TABLE);
const S = (s: string) => ({ S: s });
const DIGEST = { B: new Uint8Array(2048) };
/** The user's counter item as the store's commit writes it: 7 + 12 + 5 + 33 + 2,054 bytes with the digest. */
const counterKey = { userId: S("u"), pieceId: S(SYNC_STATE_KEY) };
const counterValues = { ":seq": { N: "5" }, ":at": S("2026-01-01T00:00:00.000Z"), ":prev": { N: "4" } };

test("item size and transactional write units follow DynamoDB's rules", () => {
  // names + values: "userId"(6)+"u"(1), "n"(1)+N "12"(2), "ok"(2)+BOOL(1), "l"(1)+L[S "ab"] (3+1+2), "b"(1)+B(3)
  expect(itemBytes({ userId: S("u"), n: { N: "12" }, ok: { BOOL: true }, l: { L: [S("ab")] }, b: { B: new Uint8Array(3) } })).toBe(7 + 3 + 3 + 7 + 4);
  const big = { userId: S("u"), pieceId: S("p"), changeKey: S("k"), bucketKey: S("b"), lyrics: S("x".repeat(3000)) };
  expect(itemBytes(big)).toBe(7 + 8 + 10 + 10 + 3006); // 3 KB started; each keys-only index entry is under 1 KB
  const units = transactWriteUnits(
    {
      TransactItems: [
        {
          Update: {
            TableName: PIECES,
            Key: counterKey,
            UpdateExpression: "SET seq = :seq, changedAt = :at, digest = :d",
            ConditionExpression: "seq = :prev",
            ExpressionAttributeValues: { ...counterValues, ":d": DIGEST },
          },
        },
        { Put: { TableName: PIECES, Item: big, ConditionExpression: "attribute_not_exists(#k)" } },
        { Put: { TableName: PIECES, Item: big, ConditionExpression: "#v = :v" } },
      ],
    },
    schemaOf,
  );
  // counter with its digest: 2,111 bytes, 2*3; new item: 2*3 table + 2*(1+1) puts in byChange and byBucket;
  // replaced item (not seen before: taken as the same size, other index keys): 2*3 + 2*(2+2) deletes and puts
  expect(units).toBe(6 + (6 + 4) + (6 + 8));
});

test("write units follow each item from one transaction to the next: larger of before and after, index entries by their keys", () => {
  const images = new ItemImages();
  const step = (TransactItems: any[]) => {
    const cost = costTransaction({ TransactItems }, schemaOf, images);
    images.apply(cost);
    return cost.units;
  };
  const piece = (changeKey: string, extra: Record<string, any>) => ({ userId: S("u"), pieceId: S("p"), changeKey: S(changeKey), ...extra });
  // First contact: the counter is created with its digest, a 3 KB piece is new to both indexes.
  expect(
    step([
      { Put: { TableName: PIECES, Item: { ...counterKey, seq: { N: "1" }, changedAt: counterValues[":at"], digest: DIGEST }, ConditionExpression: "attribute_not_exists(#k)" } },
      { Put: { TableName: PIECES, Item: piece("k1", { bucketKey: S("b1"), lyrics: S("x".repeat(3000)) }), ConditionExpression: "attribute_not_exists(#k)" } },
    ]),
  ).toBe(6 + (6 + 4));
  // A commit that leaves the digest as it is (sessions do) still writes a 2 KB item; the piece
  // shrinks to 1 KB and is sized as before (3 KB); both its index keys move.
  expect(
    step([
      { Update: { TableName: PIECES, Key: counterKey, UpdateExpression: "SET seq = :seq, changedAt = :at", ExpressionAttributeValues: counterValues } },
      { Put: { TableName: PIECES, Item: piece("k2", { bucketKey: S("b2"), lyrics: S("x".repeat(900)) }), ConditionExpression: "#v = :v" } },
    ]),
  ).toBe(6 + (6 + 8));
  // A tombstone has no bucketKey: its byBucket entry is deleted (1), its byChange entry moves (2).
  expect(
    step([
      { Update: { TableName: PIECES, Key: counterKey, UpdateExpression: "SET seq = :seq, changedAt = :at, digest = :d", ExpressionAttributeValues: { ...counterValues, ":d": DIGEST } } },
      { Put: { TableName: PIECES, Item: piece("k3", { deleted: { BOOL: true } }), ConditionExpression: "#v = :v" } },
    ]),
  ).toBe(6 + (2 * 1 + 2 * 3));
  // Brought back: a new byBucket entry (1), the byChange entry moves (2).
  expect(step([{ Put: { TableName: PIECES, Item: piece("k4", { bucketKey: S("b4") }), ConditionExpression: "#v = :v" } }])).toBe(2 * 1 + 2 * 3);
  // A session item names a piece but the sessions table has only byChange.
  const session = { userId: S("u"), sessionId: S("s"), pieceId: S("p"), changeKey: S("k5"), startedAt: counterValues[":at"] };
  expect(step([{ Put: { TableName: SESSIONS, Item: session, ConditionExpression: "attribute_not_exists(#k)" } }])).toBe(2 * 1 + 2 * 1);
});

test("an update the bench cannot size is refused rather than mis-costed", () => {
  for (const UpdateExpression of ["SET seq = seq + :one", "ADD seq :one", "SET tags = list_append(tags, :t)"]) {
    expect(() =>
      transactWriteUnits({ TransactItems: [{ Update: { TableName: PIECES, Key: counterKey, UpdateExpression, ExpressionAttributeValues: { ":one": { N: "1" }, ":t": { L: [] } } } }] }, schemaOf),
    ).toThrow(/write units/);
  }
});

test("the meter costs the store's real commits: the counter's digest counts at its size in every commit", async () => {
  // The store's own commits, through the document client, to a client answered in
  // place of DynamoDB (nothing leaves the process).
  const client = new DynamoDBClient({ region: "us-west-2", endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "x", secretAccessKey: "x" }, maxAttempts: 1 });
  const sent: any[] = [];
  client.middlewareStack.add(
    () => async (args: any) => {
      sent.push(args.input);
      return { output: { $metadata: {} }, response: {} } as any;
    },
    { step: "finalizeRequest", name: "answeredInPlace" },
  );
  const meter = meterTransactions(client, schemaOf);
  const store = new Store({ doc: DynamoDBDocumentClient.from(client), piecesTable: PIECES, sessionsTable: SESSIONS });
  const id = "0A1B2C3D-0000-4000-8000-000000000001";
  const pieceWrite = (version: number, lyrics: string, expectedVersion?: number): PlannedWrite => {
    const content = { title: "Mele", category: "mele" as const, lyrics, includeInPractice: true, isFavorite: false };
    const hash = entryHash(id, version, content);
    return { table: "pieces", item: { pieceId: id, ...content, version, bucketKey: bucketKey(id, hash) }, expectedVersion, digest: [{ bucket: bucketOf(id), hash }] };
  };
  const pieceUnits = (i: number, indexWrites: number) => 2 * Math.ceil(itemBytes(sent[i].TransactItems[1].Put.Item) / 1024) + 2 * indexWrites;

  // First contact: the counter is created (Put) with the digest: 2 KB and more, 3 units, doubled.
  const first = await store.commit("u", { seq: 0, changedAt: "", exists: false, digest: emptyDigest() }, [pieceWrite(VERSION_STEP, "x".repeat(3000))]);
  if (first === "conflict") throw new Error("conflict");
  expect(itemBytes(sent[0].TransactItems[0].Put.Item)).toBeGreaterThan(2048);
  expect(meter.computed).toBe(6 + pieceUnits(0, 2));

  // An edit: the counter's Update carries the new digest; the piece leaves one entry in each index and takes another.
  meter.reset();
  const second = await store.commit("u", first.state, [pieceWrite(2 * VERSION_STEP, "y".repeat(3000), VERSION_STEP)]);
  if (second === "conflict") throw new Error("conflict");
  expect(sent[1].TransactItems[0].Update.ExpressionAttributeValues[":d"].B.length).toBe(2048);
  expect(meter.computed).toBe(6 + pieceUnits(1, 4));

  // A session: the Update leaves the digest out, but the item it rewrites still holds it.
  meter.reset();
  const session = { sessionId: "5E55A0B1-0000-4000-8000-000000000001", pieceId: id, startedAt: "2026-01-01T00:00:00Z", createdAt: "2026-01-01T00:00:00Z" };
  await store.commit("u", second.state, [{ table: "sessions", item: session }]);
  expect(sent[2].TransactItems[0].Update.UpdateExpression).not.toMatch(/digest/);
  expect(meter.computed).toBe(6 + (2 * 1 + 2 * 1));
});

test("ratio is how many times better ours is", () => {
  expect(ratioOf({ metric: "m", n: 1, ours: 2, baseline: 10, unit: "RCU", better: "lower" })).toBe(5);
  expect(ratioOf({ metric: "m", n: 1, ours: 10, baseline: 2, unit: "ops/s", better: "higher" })).toBe(5);
  expect(ratioOf({ metric: "m", n: 1, ours: 0, baseline: 2, unit: "x", better: "lower" })).toBeNull();
  expect(ratioOf({ metric: "m", n: null, ours: 3, baseline: null, unit: "ms", better: "lower" })).toBeNull();
});
