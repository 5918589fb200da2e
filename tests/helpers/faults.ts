// Fault injection around the real DynamoDB document client: the engine still does
// the work, but chosen calls are throttled, fail, or hand back part of a batch as
// unprocessed, the way DynamoDB does under load. Not a mock of the store.
import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export type FaultKind = "throttle" | "unprocessed" | "txn-throttle" | "fail" | "crash-after" | "delay" | "hold";

export interface FaultRule {
  /** Command class name, e.g. "TransactWriteCommand", "BatchGetCommand"; "*" for any. */
  command: string;
  kind: FaultKind;
  /** How many matching calls to affect (Infinity for all). */
  times: number;
  /** For "delay": how long the call waits before it is sent. */
  delayMs?: number;
  /** For "hold": the call is sent once this settles (no clock involved), */
  until?: Promise<unknown>;
  /** and this is called when it starts waiting. */
  held?: () => void;
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
    injected: { throttle: 0, unprocessed: 0, "txn-throttle": 0, fail: 0, "crash-after": 0, delay: 0, hold: 0 },
    calls: 0,
  };
  const pick = (name: string): { kind: FaultKind; rule?: FaultRule } | undefined => {
    const rule = rules.find((x) => (x.command === name || x.command === "*") && x.times > 0);
    if (rule) {
      rule.times--;
      return { kind: rule.kind, rule };
    }
    const kind = f.decide?.(name);
    return kind && { kind };
  };
  const send = async (command: any, ...rest: any[]) => {
    f.calls++;
    const name = command.constructor?.name ?? "unknown";
    const picked = pick(name);
    if (!picked) return (real.send as any)(command, ...rest);
    const { kind, rule } = picked;
    f.injected[kind]++;
    switch (kind) {
      case "delay":
        await new Promise((r) => setTimeout(r, rule?.delayMs ?? 0));
        return (real.send as any)(command, ...rest);
      case "hold":
        rule?.held?.();
        await rule?.until;
        return (real.send as any)(command, ...rest);
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
        // Hand back the second half of each table's requested keys as unprocessed
        // (DynamoDB may do so whether or not the item exists), and drop their items.
        const input = command.input;
        out.UnprocessedKeys = {};
        for (const [table, req] of Object.entries<any>(input.RequestItems ?? {})) {
          const keys: Record<string, unknown>[] = req.Keys ?? [];
          const back = keys.slice(Math.floor(keys.length / 2));
          if (!back.length) continue;
          const same = (it: any, k: Record<string, unknown>) => Object.entries(k).every(([a, v]) => it[a] === v);
          out.Responses = out.Responses ?? {};
          out.Responses[table] = (out.Responses[table] ?? []).filter((it: any) => !back.some((k) => same(it, k)));
          out.UnprocessedKeys[table] = { Keys: back, ConsistentRead: req.ConsistentRead };
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
