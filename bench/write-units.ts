// Write units of TransactWriteItems, computed by DynamoDB's published rules,
// because DynamoDB Local's ConsumedCapacity for a multi-item transaction is not
// per item (the same 99 items report what one does). Other writes keep the
// figure DynamoDB Local reports, which matches these rules for PutItem and
// BatchWriteItem.
//
// Rules (DynamoDB developer guide, "Read/write capacity mode" and "Managing
// capacity with transactions"): a write costs one unit per started KB of the item;
// inside a transaction, two. An item with the index key also writes its local
// secondary index entry (projection KEYS_ONLY, lib/tables.ts: the table's keys and
// the index key, plus 100 bytes of overhead), and
// replacing an item whose index key changes costs a delete and a put there. Index
// writes are doubled in a transaction too (the conservative reading).
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { itemBytes } from "../lib/item-size";
import { TABLES } from "../lib/tables";

export { itemBytes, valueBytes } from "../lib/item-size";

const KB = 1024;
const INDEX_OVERHEAD = 100;

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

/** Size of an item's entry in a keys-only index: the table's keys and the index key. */
export function indexEntryBytes(item: Record<string, AttributeValue>, indexKey: string): number {
  const keys = new Set<string>([indexKey]);
  for (const t of TABLES) if (item[t.rangeKey]) [t.hashKey, t.rangeKey].forEach((k) => keys.add(k));
  return itemBytes(Object.fromEntries(Object.entries(item).filter(([k]) => keys.has(k)))) + INDEX_OVERHEAD;
}

/**
 * Units of one TransactWriteItems request (marshalled input). A Put conditioned on
 * the item's existing state (anything but attribute_not_exists) replaces an item,
 * whose old index entry is taken to be the size of the new one.
 */
export function transactWriteUnits(input: { TransactItems?: any[] }, indexKey: string): number {
  let total = 0;
  for (const t of input.TransactItems ?? []) {
    if (t.Put) {
      const bytes = itemBytes(t.Put.Item);
      total += 2 * units(bytes);
      if (t.Put.Item[indexKey]) {
        const replaces = !!t.Put.ConditionExpression && !/attribute_not_exists/.test(t.Put.ConditionExpression);
        total += 2 * units(indexEntryBytes(t.Put.Item, indexKey)) * (replaces ? 2 : 1);
      }
    } else if (t.Update) {
      total += 2; // the per-user counter: a few dozen bytes, no index key
    } else if (t.Delete) {
      total += 2;
    } else if (t.ConditionCheck) {
      total += 2;
    }
  }
  return total;
}

export interface TransactMeter {
  /** Units DynamoDB Local reported for transactions (to subtract). */
  reported: number;
  /** Units by the rules above. */
  computed: number;
  reset(): void;
}

/** Records, per client, both figures for every TransactWriteItems it sends. */
export function meterTransactions(client: DynamoDBClient, indexKey: string): TransactMeter {
  const m: TransactMeter = {
    reported: 0,
    computed: 0,
    reset() {
      m.reported = 0;
      m.computed = 0;
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args: any) => {
      if (context.commandName !== "TransactWriteItemsCommand") return next(args);
      const computed = transactWriteUnits(args.input, indexKey);
      const out: any = await next(args);
      const cc = out.output?.ConsumedCapacity;
      m.reported += (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s: number, c: any) => s + (c.CapacityUnits ?? 0), 0);
      m.computed += computed;
      return out;
    },
    { step: "build", name: "haumanaBenchTransactMeter" },
  );
  return m;
}
