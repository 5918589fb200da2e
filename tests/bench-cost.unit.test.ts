import * as fs from "node:fs";
import * as path from "node:path";
// The bench's arithmetic, checked by hand: the cost model (bench/cost.ts), the
// write units it computes for transactions (bench/write-units.ts) and its ratios.
import { costPerSync, costPerUserMonth, PRICES, SyncProfile, USAGE } from "../bench/cost";
import { ratioOf } from "../bench/report";
import { itemBytes, transactWriteUnits } from "../bench/write-units";

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

test("item size and transactional write units follow DynamoDB's rules", () => {
  // names + values: "userId"(6)+"u"(1), "n"(1)+N "12"(2), "ok"(2)+BOOL(1), "l"(1)+L[S "ab"] (3+1+2)
  expect(itemBytes({ userId: { S: "u" }, n: { N: "12" }, ok: { BOOL: true }, l: { L: [{ S: "ab" }] } })).toBe(7 + 3 + 3 + 7);
  const big = { userId: { S: "u" }, pieceId: { S: "p" }, changeKey: { S: "k" }, lyrics: { S: "x".repeat(3000) } };
  const bytes = itemBytes(big); // 7 + 8 + 10 + 3,006: 3 KB started; its keys-only index entry is under 1 KB
  expect(bytes).toBe(3031);
  const units = transactWriteUnits(
    {
      TransactItems: [
        { Update: { Key: {}, UpdateExpression: "SET seq = :s" } },
        { Put: { Item: big, ConditionExpression: "attribute_not_exists(#k)" } },
        { Put: { Item: big, ConditionExpression: "#v = :v" } },
      ],
    },
    "changeKey",
  );
  // counter 2; new item: 2*3 table + 2*1 index put; replaced item: 2*3 table + 2*1*2 index delete and put
  expect(units).toBe(2 + (6 + 2) + (6 + 4));
});

test("ratio is how many times better ours is", () => {
  expect(ratioOf({ metric: "m", n: 1, ours: 2, baseline: 10, unit: "RCU", better: "lower" })).toBe(5);
  expect(ratioOf({ metric: "m", n: 1, ours: 10, baseline: 2, unit: "ops/s", better: "higher" })).toBe(5);
  expect(ratioOf({ metric: "m", n: 1, ours: 0, baseline: 2, unit: "x", better: "lower" })).toBeNull();
  expect(ratioOf({ metric: "m", n: null, ours: 3, baseline: null, unit: "ms", better: "lower" })).toBeNull();
});
