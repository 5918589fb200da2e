// An HTTP proxy on 127.0.0.1 in front of DynamoDB Local that lets a process run until
// its Nth TransactWriteItems has been applied, then answers nothing more: that
// transaction's response and every later request are held. `held` resolves once
// DynamoDB has applied the Nth and nothing forwarded is still in flight, so a test
// can kill the process there: after a write landed and before its answer arrived,
// the worst moment for a resume, at a point that does not depend on timing.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface HoldProxy {
  endpoint: string;
  /** Resolves with the number of TransactWriteItems applied, once the hold is complete. */
  held: Promise<number>;
  stop(): Promise<void>;
}

export async function holdAfterTransactions(upstream: string, n: number): Promise<HoldProxy> {
  const target = new URL(upstream);
  let transactions = 0;
  let holding = false;
  let inFlight = 0;
  let release!: (count: number) => void;
  const held = new Promise<number>((r) => (release = r));
  const parked: http.ServerResponse[] = [];
  const settle = () => {
    if (holding && inFlight === 0) release(transactions);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (holding) {
        parked.push(res);
        return;
      }
      const isTransaction = String(req.headers["x-amz-target"] ?? "").endsWith(".TransactWriteItems");
      const last = isTransaction && ++transactions === n;
      if (last) holding = true;
      inFlight++;
      const up = http.request(
        { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on("data", (c) => body.push(c));
          upRes.on("end", () => {
            inFlight--;
            if (holding) parked.push(res);
            else {
              res.writeHead(upRes.statusCode ?? 500, upRes.headers);
              res.end(Buffer.concat(body));
            }
            settle();
          });
        },
      );
      up.on("error", () => {
        inFlight--;
        res.destroy();
        settle();
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    held,
    stop: async () => {
      for (const res of parked) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
