// Fault injection around the real DynamoDB document client: the engine still does
// the work, but chosen calls are throttled, fail, or hand back part of a batch as
// unprocessed, the way DynamoDB does under load. Not a mock of the store.
import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type FaultKind = "throttle" | "unprocessed" | "txn-throttle" | "fail" | "crash-after";

export interface FaultRule {
  /** Command class name, e.g. "TransactWriteCommand", "BatchGetCommand"; "*" for any. */
  command: string;
  kind: FaultKind;
  /** How many matching calls to affect (Infinity for all). */
  times: number;
}

export interface FaultyClient {
  doc: DynamoDBDocumentClient;
  add(rule: FaultRule): void;
  clear(): void;
  /** Decides per call; return a FaultKind to inject one (used by random schedules). */
  decide?: (command: string) => FaultKind | undefined;
  injected: Record<FaultKind, number>;
  calls: number;
}

/** Thrown by "crash-after": the write happened, then the handler "died". */
export class SimulatedCrash extends Error {
  readonly name = "SimulatedCrash";
}

export function withFaults(real: DynamoDBDocumentClient): FaultyClient {
  const rules: FaultRule[] = [];
  const f: FaultyClient = {
    doc: undefined as any,
    add: (r) => rules.push({ ...r }),
    clear: () => (rules.length = 0),
    injected: { throttle: 0, unprocessed: 0, "txn-throttle": 0, fail: 0, "crash-after": 0 },
    calls: 0,
  };
  const pick = (name: string): FaultKind | undefined => {
    const r = rules.find((x) => (x.command === name || x.command === "*") && x.times > 0);
    if (r) {
      r.times--;
      return r.kind;
    }
    return f.decide?.(name);
  };
  const send = async (command: any, ...rest: any[]) => {
    f.calls++;
    const name = command.constructor?.name ?? "unknown";
    const kind = pick(name);
    if (!kind) return (real.send as any)(command, ...rest);
    f.injected[kind]++;
    switch (kind) {
      case "throttle":
        throw new ProvisionedThroughputExceededException({ message: "injected throttle", $metadata: { httpStatusCode: 400 } });
      case "txn-throttle":
        throw new TransactionCanceledException({
          message: "injected: Transaction cancelled [ThrottlingError]",
          $metadata: { httpStatusCode: 400 },
          CancellationReasons: [{ Code: "ThrottlingError" }],
        });
      case "fail": {
        const e: any = new Error("injected service failure");
        e.name = "InternalServerError";
        e.$metadata = { httpStatusCode: 500 };
        throw e;
      }
      case "crash-after": {
        await (real.send as any)(command, ...rest);
        throw new SimulatedCrash("injected: handler died after this write");
      }
      case "unprocessed": {
        const out: any = await (real.send as any)(command, ...rest);
        if (name !== "BatchGetCommand") return out;
        // Hand back half of each table's keys as unprocessed.
        const input = command.input;
        out.UnprocessedKeys = {};
        for (const [table, items] of Object.entries<any[]>(out.Responses ?? {})) {
          const keep = items.slice(0, Math.floor(items.length / 2));
          const back = items.slice(keep.length);
          out.Responses[table] = keep;
          const hk = Object.keys(input.RequestItems[table].Keys[0] ?? {});
          if (back.length) {
            out.UnprocessedKeys[table] = {
              Keys: back.map((it) => Object.fromEntries(hk.map((k) => [k, it[k]]))),
              ConsistentRead: true,
            };
          }
        }
        return out;
      }
    }
  };
  f.doc = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "send") return send;
      return Reflect.get(target, prop, receiver);
    },
  });
  return f;
}
