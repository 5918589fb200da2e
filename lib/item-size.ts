// DynamoDB's item size rules (developer guide, "Item sizes and formats"), on
// marshalled attribute values. The sync code uses them to keep every item under
// 400 KB and every transaction under its byte budget; the bench uses them to
// compute write units.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

/** Size of an attribute value as DynamoDB counts it. */
export function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, "utf8");
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, "").replace(/^0+/, "").length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueBytes(x), 0);
  if (v.M !== undefined) return 3 + itemBytes(v.M) + Object.keys(v.M).length;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + Buffer.byteLength(x, "utf8"), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + valueBytes({ N: x }), 0);
  if (v.BS !== undefined) return v.BS.reduce((s, x) => s + x.length, 0);
  return 0;
}

/** Item size: attribute names plus values. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k, "utf8") + valueBytes(v), 0);
}

/**
 * The same rules on a plain JavaScript item, as the document client would marshal
 * it (strings, numbers, booleans, binary, lists, maps; undefined is left out).
 */
export function plainItemBytes(item: Record<string, unknown>): number {
  let total = 0;
  for (const [k, v] of Object.entries(item)) {
    if (v === undefined) continue;
    total += Buffer.byteLength(k, "utf8") + plainValueBytes(v);
  }
  return total;
}

function plainValueBytes(v: unknown): number {
  if (typeof v === "string") return Buffer.byteLength(v, "utf8");
  if (typeof v === "number") return valueBytes({ N: String(v) });
  if (typeof v === "boolean" || v === null) return 1;
  if (v instanceof Uint8Array) return v.length;
  if (Array.isArray(v)) return 3 + v.reduce((s: number, x) => s + 1 + plainValueBytes(x), 0);
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return 3 + entries.length + plainItemBytes(Object.fromEntries(entries));
  }
  return 0;
}
