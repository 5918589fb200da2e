// Measures what DynamoDB charges: a client middleware that asks every request for
// its consumed capacity and adds it up, read and write apart, with request counts.
// Used by the sync tests and by `npm run bench`.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface CapacityMeter {
  read: number;
  write: number;
  requests: number;
  byCommand: Record<string, number>;
  reset(): void;
}

const READS = new Set(["GetItemCommand", "BatchGetItemCommand", "QueryCommand", "ScanCommand", "TransactGetItemsCommand"]);

const meters = new WeakMap<DynamoDBClient, CapacityMeter>();

/** The client's meter (one per client; installed on first use). */
export function meterCapacity(client: DynamoDBClient): CapacityMeter {
  const existing = meters.get(client);
  if (existing) return existing;
  const m: CapacityMeter = {
    read: 0,
    write: 0,
    requests: 0,
    byCommand: {},
    reset() {
      m.read = 0;
      m.write = 0;
      m.requests = 0;
      m.byCommand = {};
    },
  };
  client.middlewareStack.add(
    (next, context) => async (args: any) => {
      const name = String(context.commandName);
      if (args.input && typeof args.input === "object") args.input.ReturnConsumedCapacity = "TOTAL";
      const out: any = await next(args);
      m.requests++;
      m.byCommand[name] = (m.byCommand[name] ?? 0) + 1;
      const cc = out.output?.ConsumedCapacity;
      const list = Array.isArray(cc) ? cc : cc ? [cc] : [];
      const units = list.reduce((s: number, c: any) => s + (c.CapacityUnits ?? 0), 0);
      if (READS.has(name)) m.read += units;
      else m.write += units;
      return out;
    },
    { step: "initialize", name: "haumanaCapacityMeter" },
  );
  meters.set(client, m);
  return m;
}
