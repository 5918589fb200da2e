// Wires the real sync routes to fresh DynamoDB Local tables, with the user put in
// the authorizer context as API Gateway does, and a transport for Device.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { piecesRoute, sessionsRoute } from "../../functions/core/routes";
import { Store, StoreDeps } from "../../functions/core/store";
import { setLogSink } from "../../functions/core/log";
import { createTestTables, TestTables } from "./dynamo";
import { Transport } from "./device";

export interface Harness {
  tables: TestTables;
  store: Store;
  call(route: "/pieces" | "/sessions", userId: string, body: unknown | string): Promise<{ status: number; body: any; raw: string }>;
  transport(userId: string): Transport;
  logs: string[];
  done(): Promise<void>;
}

export async function createHarness(
  label: string,
  opts: {
    doc?: (doc: DynamoDBDocumentClient, client: DynamoDBClient) => DynamoDBDocumentClient;
    store?: Partial<StoreDeps>;
    responseBudgetBytes?: number;
    /** Tables that exist already (left in place by done()); default: a fresh pair. */
    tables?: Omit<TestTables, "drop">;
  } = {},
): Promise<Harness> {
  const tables: TestTables = opts.tables ? { ...opts.tables, drop: async () => undefined } : await createTestTables(label);
  const doc = opts.doc ? opts.doc(tables.doc, tables.client) : tables.doc;
  const store = new Store({ doc, piecesTable: tables.piecesTable, sessionsTable: tables.sessionsTable, ...opts.store });
  const routeOpts = { responseBudgetBytes: opts.responseBudgetBytes };
  const routes = { "/pieces": piecesRoute(store, routeOpts), "/sessions": sessionsRoute(store, routeOpts) };
  const logs: string[] = [];
  const prev = setLogSink((l) => logs.push(l));
  const call: Harness["call"] = async (route, userId, body) => {
    const res = await routes[route]({
      body: typeof body === "string" ? body : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { authorizer: { userId, email: `${userId}@example.com` }, requestId: "test" },
    });
    return { status: res.statusCode, body: JSON.parse(res.body), raw: res.body };
  };
  return {
    tables,
    store,
    call,
    transport: (userId) => async (route, body) => {
      const r = await call(route, userId, body);
      return { status: r.status, body: r.body };
    },
    logs,
    done: async () => {
      setLogSink(prev);
      await tables.drop();
    },
  };
}
