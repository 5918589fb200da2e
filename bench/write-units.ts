// Write units of TransactWriteItems, computed by DynamoDB's published rules,
// because DynamoDB Local's ConsumedCapacity for a multi-item transaction is not
// per item (the same 99 items report what one does). Other writes keep the
// figure DynamoDB Local reports, which matches these rules for PutItem and
// BatchWriteItem.
//
// Rules (DynamoDB developer guide: "DynamoDB read and write operations", "Managing
// capacity with transactions", and the provisioned-throughput considerations of
// local secondary indexes):
// - a write costs one unit per started KB of the item; a Put that replaces an item
//   and an Update are sized as the larger of the item before and after; inside a
//   transaction every unit counts twice;
// - each local secondary index of the table (lib/tables.ts; all KEYS_ONLY): one
//   entry write when the item gains the index key, one when it loses it, two
//   (delete and put) when the key's value changes, none when it stays (nothing
//   else is projected). An entry is the table's keys and the index key plus 100
//   bytes of overhead. Index writes are doubled in a transaction too (the
//   conservative reading).
// So the size of an item before a write matters. The meter keeps an image (each
// attribute's size, the index keys' values) of every item it has seen written:
// the user's counter item carries the 2 KB repertoire digest, which each commit's
// Update replaces or keeps, and a piece's Put moves both of its index keys.
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { valueBytes } from "../lib/item-size";
import type { TableSchema } from "../lib/tables";

export { itemBytes, valueBytes } from "../lib/item-size";

const KB = 1024;
const INDEX_OVERHEAD = 100;

const units = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

type Item = Record<string, AttributeValue>;

/** What DynamoDB holds of an item, as far as write units go. */
export interface ItemImage {
  /** Each attribute's size: its name plus its value. */
  sizes: Record<string, number>;
  /** Values of the item's index keys; an index key that is absent keeps the item out of that index. */
  indexKeys: Record<string, string>;
}

/** The schema of a table by its name (ours: the pieces or the sessions table). */
export type SchemaOf = (tableName: string) => TableSchema;

export function imageOf(item: Item, schema: TableSchema): ItemImage {
  const sizes: Record<string, number> = {};
  for (const [k, v] of Object.entries(item)) sizes[k] = Buffer.byteLength(k, "utf8") + valueBytes(v);
  const indexKeys: Record<string, string> = {};
  for (const i of schema.indexes) {
    const v = item[i.rangeKey]?.S;
    if (v !== undefined) indexKeys[i.rangeKey] = v;
  }
  return { sizes, indexKeys };
}

export function imageBytes(img: ItemImage): number {
  return Object.values(img.sizes).reduce((s, n) => s + n, 0);
}

/** Size of an item's entry in a keys-only index: the table's keys, the index key and the overhead. */
export function indexEntryBytes(img: ItemImage, schema: TableSchema, indexKey: string): number {
  return (img.sizes[schema.hashKey] ?? 0) + (img.sizes[schema.rangeKey] ?? 0) + (img.sizes[indexKey] ?? 0) + INDEX_OVERHEAD;
}

/** Units of the index entry writes that turn `before` into `after` (undefined: no item). */
export function indexWriteUnits(schema: TableSchema, before: ItemImage | undefined, after: ItemImage | undefined): number {
  let total = 0;
  for (const i of schema.indexes) {
    const b = before?.indexKeys[i.rangeKey];
    const a = after?.indexKeys[i.rangeKey];
    if (b === a) continue;
    if (b !== undefined) total += units(indexEntryBytes(before!, schema, i.rangeKey));
    if (a !== undefined) total += units(indexEntryBytes(after!, schema, i.rangeKey));
  }
  return total;
}

/** The images of the items a meter has seen written, by table and key. */
export class ItemImages {
  private readonly items = new Map<string, ItemImage>();

  static keyOf(table: string, schema: TableSchema, item: Item): string {
    return `${table}\u0000${item[schema.hashKey]?.S ?? ""}\u0000${item[schema.rangeKey]?.S ?? ""}`;
  }

  get(key: string): ItemImage | undefined {
    return this.items.get(key);
  }

  set(key: string, img: ItemImage | undefined): void {
    if (img) this.items.set(key, img);
    else this.items.delete(key);
  }

  /** Takes the images a transaction leaves, once DynamoDB has applied it. */
  apply(cost: TransactionCost): void {
    for (const [key, img] of cost.after) this.set(key, img);
  }
}

/**
 * The item after an UpdateExpression of `SET path = :value, ...` and `REMOVE path, ...`
 * clauses (what the store sends). Any other form is refused: the bench would mis-cost it.
 */
export function applyUpdate(before: ItemImage | undefined, update: any, schema: TableSchema): ItemImage {
  const keyImage = imageOf(update.Key ?? {}, schema);
  const sizes = { ...keyImage.sizes, ...(before?.sizes ?? {}) };
  const indexKeys = { ...(before?.indexKeys ?? {}) };
  const names: Record<string, string> = update.ExpressionAttributeNames ?? {};
  const values: Item = update.ExpressionAttributeValues ?? {};
  const nameOf = (token: string) => {
    const n = token.startsWith("#") ? names[token] : token;
    if (!n || !/^[A-Za-z0-9_#]+$/.test(n)) throw new Error(`write units: unsupported attribute path ${token} in ${update.UpdateExpression}`);
    return n;
  };
  const parts = String(update.UpdateExpression ?? "").split(/\b(SET|REMOVE|ADD|DELETE)\b/i);
  if (parts[0].trim()) throw new Error(`write units: cannot read UpdateExpression ${update.UpdateExpression}`);
  for (let p = 1; p < parts.length; p += 2) {
    const clause = parts[p].toUpperCase();
    const actions = parts[p + 1].split(",").map((a) => a.trim());
    for (const a of actions) {
      if (clause === "SET") {
        const m = /^(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)$/.exec(a);
        if (!m || values[m[2]] === undefined) throw new Error(`write units: unsupported SET action "${a}"`);
        const name = nameOf(m[1]);
        const v = values[m[2]];
        sizes[name] = Buffer.byteLength(name, "utf8") + valueBytes(v);
        if (schema.indexes.some((i) => i.rangeKey === name) && v.S !== undefined) indexKeys[name] = v.S;
      } else if (clause === "REMOVE") {
        const name = nameOf(a);
        delete sizes[name];
        delete indexKeys[name];
      } else {
        throw new Error(`write units: unsupported ${clause} clause in ${update.UpdateExpression}`);
      }
    }
  }
  return { sizes, indexKeys };
}

/**
 * A replaced item the meter has not seen: taken to be the size of the new one, with
 * other values of every index key (every write of ours moves the change key).
 */
function unseenReplaced(after: ItemImage): ItemImage {
  return { sizes: after.sizes, indexKeys: Object.fromEntries(Object.keys(after.indexKeys).map((k) => [k, "\u0000unseen"])) };
}

export interface TransactionCost {
  units: number;
  /** The images of the items written, once the transaction is applied. */
  after: [key: string, img: ItemImage | undefined][];
}

/** Units of one TransactWriteItems request (marshalled input), with the images it leaves. */
export function costTransaction(input: { TransactItems?: any[] }, schemaOf: SchemaOf, images: ItemImages): TransactionCost {
  let total = 0;
  const after: TransactionCost["after"] = [];
  for (const t of input.TransactItems ?? []) {
    const op = t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck;
    const schema = schemaOf(op.TableName);
    const key = ItemImages.keyOf(op.TableName, schema, t.Put ? t.Put.Item : op.Key);
    const seen = images.get(key);
    if (t.Put) {
      const next = imageOf(t.Put.Item, schema);
      const replaces = !!t.Put.ConditionExpression && !/attribute_not_exists/.test(t.Put.ConditionExpression);
      const before = seen ?? (replaces ? unseenReplaced(next) : undefined);
      total += 2 * units(Math.max(before ? imageBytes(before) : 0, imageBytes(next)));
      total += 2 * indexWriteUnits(schema, before, next);
      after.push([key, next]);
    } else if (t.Update) {
      const next = applyUpdate(seen, t.Update, schema);
      total += 2 * units(Math.max(seen ? imageBytes(seen) : 0, imageBytes(next)));
      total += 2 * indexWriteUnits(schema, seen, next);
      after.push([key, next]);
    } else if (t.Delete) {
      total += 2 * units(seen ? imageBytes(seen) : 0);
      total += 2 * indexWriteUnits(schema, seen, undefined);
      after.push([key, undefined]);
    } else {
      total += 2 * units(seen ? imageBytes(seen) : 0);
    }
  }
  return { units: total, after };
}

/** Units of one TransactWriteItems request, against the images known so far (none by default). */
export function transactWriteUnits(input: { TransactItems?: any[] }, schemaOf: SchemaOf, images = new ItemImages()): number {
  return costTransaction(input, schemaOf, images).units;
}

export interface TransactMeter {
  /** Units DynamoDB Local reported for transactions (to subtract). */
  reported: number;
  /** Units by the rules above. */
  computed: number;
  reset(): void;
}

/**
 * Records, per client, both figures for every TransactWriteItems it sends, and keeps
 * the images of the items its writes (transactional or not) leave. Install it
 * before the client's first write.
 */
export function meterTransactions(client: DynamoDBClient, schemaOf: SchemaOf): TransactMeter {
  const images = new ItemImages();
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
      const name = context.commandName;
      const input = args.input;
      if (name === "TransactWriteItemsCommand") {
        const cost = costTransaction(input, schemaOf, images);
        const out: any = await next(args);
        const cc = out.output?.ConsumedCapacity;
        m.reported += (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s: number, c: any) => s + (c.CapacityUnits ?? 0), 0);
        m.computed += cost.units;
        images.apply(cost);
        return out;
      }
      const out: any = await next(args);
      // Single writes are costed as DynamoDB Local reports them; only their images are kept.
      if (name === "PutItemCommand" || name === "UpdateItemCommand" || name === "DeleteItemCommand") {
        const schema = schemaOf(input.TableName);
        const key = ItemImages.keyOf(input.TableName, schema, name === "PutItemCommand" ? input.Item : input.Key);
        images.set(
          key,
          name === "PutItemCommand" ? imageOf(input.Item, schema) : name === "UpdateItemCommand" ? applyUpdate(images.get(key), input, schema) : undefined,
        );
      }
      return out;
    },
    { step: "build", name: "haumanaBenchTransactMeter" },
  );
  return m;
}
