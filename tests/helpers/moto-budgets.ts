// A loopback proxy in front of moto_server for the haumana-ops budget tests.
// moto 5.2 stores a budget's notifications and subscribers but has no
// DescribeSubscribersForNotification; this proxy answers that one call from the
// subscribers moto accepted (CreateBudget / CreateNotification bodies that moto
// answered 200), answers ListCostAllocationTags from tags a test seeds, and
// forwards everything else to moto untouched. It also logs
// every request (operation, JSON body and headers), so tests can assert what went
// over the wire, e.g. that a second `budget create` sent no writes, or which
// credentials and region signed it. For the few Cost Explorer calls moto lacks
// (ListCostAllocationTags, GetCostForecast) a test can give the answer AWS would
// (`answer`), as aws-sdk-client-mock does in-process; and `gate` holds requests
// until several are in flight at once, which only concurrent code can satisfy.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface LoggedRequest {
  operation: string;
  body: any;
  headers: http.IncomingHttpHeaders;
}

export interface BudgetsProxy {
  endpoint: string;
  requests: LoggedRequest[];
  /** Answer every later `operation` with this AWS JSON error instead of forwarding it. */
  fail(operation: string, status: number, type: string, message: string): void;
  /**
   * Answer Cost Explorer's ListCostAllocationTags (which moto lacks) with these
   * tags, filtered by the request's TagKeys; until set, that call gets moto's own
   * answer (an error).
   */
  setCostAllocationTags(tags: { TagKey: string; Status: "Active" | "Inactive"; Type?: string }[]): void;
  /** Answer every later `operation` (one moto lacks) with this JSON body, as AWS would. */
  answer(operation: string, body: unknown): void;
  /**
   * Hold requests of `operations` until `count` of them are waiting together, then
   * let them all through. If that does not happen within `ms`, the held ones are
   * answered with an error and `opened` stays false: requests sent one after another
   * can never open it.
   */
  gate(operations: string[], count: number, ms?: number): { readonly opened: boolean };
  /** Forget logged requests, recorded subscribers, seeded tags, answers, gates and failures (call with resetMoto). */
  clear(): void;
  stop(): Promise<void>;
}

type Sub = { SubscriptionType: string; Address: string };

function notificationKey(account: string, budget: string, n: any): string {
  return [account, budget, n?.NotificationType, n?.ComparisonOperator, Number(n?.Threshold), n?.ThresholdType ?? "PERCENTAGE"].join("|");
}

function operationOf(req: http.IncomingMessage, body: string): string {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.split(".").pop()!;
  const action = /(?:^|&)Action=([^&]+)/.exec(body);
  return action ? decodeURIComponent(action[1]) : `${req.method} ${req.url}`;
}

export async function startBudgetsProxy(motoEndpoint: string): Promise<BudgetsProxy> {
  const moto = new URL(motoEndpoint);
  const requests: LoggedRequest[] = [];
  const subscribers = new Map<string, Sub[]>();
  const failures = new Map<string, { status: number; type: string; message: string }>();
  const answers = new Map<string, unknown>();
  let costAllocationTags: { TagKey: string }[] | undefined;
  interface Gate {
    operations: string[];
    count: number;
    /** Released (answered normally) once `count` wait together. */
    waiting: (() => void)[];
    /** Answered with an error when the gate times out. */
    expire: (() => void)[];
    opened: boolean;
    timedOut: boolean;
    timer?: NodeJS.Timeout;
  }
  const gates: Gate[] = [];

  const record = (operation: string, b: any) => {
    const account = b.AccountId;
    if (operation === "CreateBudget") {
      for (const nws of b.NotificationsWithSubscribers ?? []) {
        subscribers.set(notificationKey(account, b.Budget.BudgetName, nws.Notification), [...nws.Subscribers]);
      }
    } else if (operation === "CreateNotification") {
      subscribers.set(notificationKey(account, b.BudgetName, b.Notification), [...b.Subscribers]);
    } else if (operation === "DeleteNotification") {
      subscribers.delete(notificationKey(account, b.BudgetName, b.Notification));
    } else if (operation === "DeleteBudget") {
      for (const k of [...subscribers.keys()]) if (k.startsWith(`${account}|${b.BudgetName}|`)) subscribers.delete(k);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString("utf8");
      const operation = operationOf(req, text);
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        /* form-encoded (STS) */
      }
      requests.push({ operation, body, headers: req.headers });
      const gate = gates.find((g) => !g.opened && !g.timedOut && g.operations.includes(operation));
      if (gate) {
        gate.waiting.push(() => respond());
        gate.expire.push(() => {
          res.statusCode = 503;
          res.setHeader("content-type", "application/x-amz-json-1.1");
          res.end(JSON.stringify({ __type: "ServiceUnavailableException", Message: "gate timed out: requests were not concurrent (moto proxy)" }));
        });
        if (gate.waiting.length >= gate.count) {
          gate.opened = true;
          clearTimeout(gate.timer);
          for (const go of gate.waiting) go();
        }
        return;
      }
      respond();

      function respond() {
        const failure = failures.get(operation);
        if (failure) {
          res.statusCode = failure.status;
          res.setHeader("content-type", "application/x-amz-json-1.1");
          res.setHeader("x-amzn-errortype", failure.type);
          res.end(JSON.stringify({ __type: failure.type, Message: failure.message }));
          return;
        }

        if (operation === "ListCostAllocationTags" && costAllocationTags) {
          const keys: string[] | undefined = body.TagKeys;
          res.setHeader("content-type", "application/x-amz-json-1.1");
          res.end(JSON.stringify({ CostAllocationTags: costAllocationTags.filter((t) => !keys || keys.includes(t.TagKey)) }));
          return;
        }

        if (answers.has(operation)) {
          res.setHeader("content-type", "application/x-amz-json-1.1");
          res.end(JSON.stringify(answers.get(operation)));
          return;
        }

        if (operation === "DescribeSubscribersForNotification") {
          const subs = subscribers.get(notificationKey(body.AccountId, body.BudgetName, body.Notification));
          res.setHeader("content-type", "application/x-amz-json-1.1");
          if (!subs) {
            res.statusCode = 400;
            res.end(JSON.stringify({ __type: "NotFoundException", Message: "notification not found (moto proxy)" }));
          } else {
            res.end(JSON.stringify({ Subscribers: subs }));
          }
          return;
        }

        const upstream = http.request(
          { host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: req.headers },
          (up) => {
            const out: Buffer[] = [];
            up.on("data", (c) => out.push(c));
            up.on("end", () => {
              if (up.statusCode === 200 && typeof body === "object") record(operation, body);
              res.writeHead(up.statusCode ?? 502, up.headers);
              res.end(Buffer.concat(out));
            });
          },
        );
        upstream.on("error", (err) => {
          res.statusCode = 502;
          res.end(String(err));
        });
        upstream.end(raw);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    fail: (operation, status, type, message) => failures.set(operation, { status, type, message }),
    answer: (operation, body) => answers.set(operation, body),
    setCostAllocationTags: (tags) => {
      costAllocationTags = tags.map((t) => ({ Type: "UserDefined", ...t }));
    },
    gate: (operations, count, ms = 10000) => {
      const g: Gate = { operations, count, waiting: [], expire: [], opened: false, timedOut: false };
      g.timer = setTimeout(() => {
        g.timedOut = true;
        for (const fail of g.expire) fail();
      }, ms);
      gates.push(g);
      return {
        get opened() {
          return g.opened;
        },
      };
    },
    clear: () => {
      requests.length = 0;
      subscribers.clear();
      failures.clear();
      answers.clear();
      costAllocationTags = undefined;
      for (const g of gates) clearTimeout(g.timer);
      gates.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Empties every moto backend. */
export async function resetMoto(motoEndpoint: string): Promise<void> {
  const res = await fetch(`${motoEndpoint}/moto-api/reset`, { method: "POST", signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
}

/** Queues GetCostAndUsage answers: moto hands them out in order, one per distinct request. */
export async function seedCostAndUsage(motoEndpoint: string, results: unknown[]): Promise<void> {
  const res = await fetch(`${motoEndpoint}/moto-api/static/ce/cost-and-usage-results`, {
    method: "POST",
    body: JSON.stringify({ results }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`moto CE seed failed: ${res.status} ${await res.text()}`);
}
