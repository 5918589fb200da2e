// Ours, as deployed: the real /pieces and /sessions routes (functions/core/routes.ts)
// over a Store on DynamoDB Local, called with the event API Gateway would send
// after the authorizer, log lines captured through setLogSink.
//
// The shipped app sends every piece it holds, so at 10,000 pieces of 1-5 KB its
// request is about 30 MB: API Gateway and Lambda refuse it (the app gets 413). To
// measure what the server would do with it, `pieces(..., { withoutBodyLimit })`
// runs the same route code with the body check lifted, for that call only; the
// production route and its limit are untouched.
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { handleRoute, ProxyEvent } from "../functions/core/http";
import { setLogSink } from "../functions/core/log";
import { syncPieces } from "../functions/core/pieces";
import { piecesRoute, sessionsRoute } from "../functions/core/routes";
import { Store } from "../functions/core/store";
import { parsePiecesRequest } from "../functions/core/validation";
import { MAX_BODY_BYTES, SYNC_RETRY_BUDGET_MS } from "../lib/limits";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE, TableSchema } from "../lib/tables";

export interface ProxyCall {
  status: number;
  body: any;
  /** Bytes of the request body. */
  requestBytes: number;
  /** The proxy result as Lambda serialises it. */
  resultBytes: number;
  /** Bytes logged while answering (lines plus newlines). */
  logBytes: number;
  durationMs: number;
  /** The body was over MAX_BODY_BYTES and ran through the route code without the check. */
  overBodyLimit: boolean;
}

export interface Ours {
  /**
   * POST /pieces through the production route, or (measurement only) through the same
   * code without the body check: "when-over" for a body over the 6 MB limit, "always".
   */
  pieces(userId: string, body: unknown, opts?: { withoutBodyLimit?: "when-over" | "always" }): Promise<ProxyCall>;
  sessions(userId: string, body: unknown): Promise<ProxyCall>;
  store: Store;
  /** Schema of each of ours' tables, by table name. */
  schemaOf(tableName: string): TableSchema;
  restoreLogs(): void;
}

/**
 * The /pieces route without the body limit: what piecesRoute (functions/core/routes.ts)
 * does, handed to handleRoute with no maximum. Keep the two the same; the bench checks
 * that both answer a request under the limit alike (bench/launch.ts).
 */
function piecesRouteWithoutBodyLimit(store: Store) {
  return (event: ProxyEvent) =>
    handleRoute(
      "POST /pieces",
      event,
      async (body, { userId }) => {
        const req = parsePiecesRequest(body);
        const { response, stats } = await syncPieces(store.withDeadline(SYNC_RETRY_BUDGET_MS), userId, req);
        return { body: response, stats: { ...stats, protocol: req.protocol ?? 1, sent: req.pieces.length + req.refused.length } };
      },
      { maxBodyBytes: Infinity },
    );
}

export async function createOurs(client: DynamoDBClient, doc: DynamoDBDocumentClient, prefix: string): Promise<Ours> {
  const piecesTable = `${prefix}-pieces`;
  const sessionsTable = `${prefix}-sessions`;
  await client.send(new CreateTableCommand(createTableInput(PIECES_TABLE, piecesTable)));
  await client.send(new CreateTableCommand(createTableInput(SESSIONS_TABLE, sessionsTable)));
  const store = new Store({ doc, piecesTable, sessionsTable });
  const routes = { pieces: piecesRoute(store), sessions: sessionsRoute(store), piecesWithoutBodyLimit: piecesRouteWithoutBodyLimit(store) };
  const schemas: Record<string, TableSchema> = { [piecesTable]: PIECES_TABLE, [sessionsTable]: SESSIONS_TABLE };
  let logged = 0;
  const prev = setLogSink((line) => (logged += Buffer.byteLength(line, "utf8") + 1));
  const call = async (route: "pieces" | "sessions", userId: string, body: unknown, lift?: "when-over" | "always"): Promise<ProxyCall> => {
    const raw = JSON.stringify(body);
    const requestBytes = Buffer.byteLength(raw, "utf8");
    const over = requestBytes > MAX_BODY_BYTES;
    const unlimited = route === "pieces" && (lift === "always" || (lift === "when-over" && over));
    logged = 0;
    const t = process.hrtime.bigint();
    const res = await routes[unlimited ? "piecesWithoutBodyLimit" : route]({
      body: raw,
      isBase64Encoded: false,
      requestContext: { authorizer: { userId, email: `${userId}@example.com` }, requestId: "bench" },
    });
    const durationMs = Number(process.hrtime.bigint() - t) / 1e6;
    return {
      status: res.statusCode,
      body: JSON.parse(res.body),
      requestBytes,
      resultBytes: Buffer.byteLength(JSON.stringify(res), "utf8"),
      logBytes: logged,
      durationMs,
      overBodyLimit: unlimited && over,
    };
  };
  return {
    pieces: (userId, body, opts = {}) => call("pieces", userId, body, opts.withoutBodyLimit),
    sessions: (userId, body) => call("sessions", userId, body),
    store,
    schemaOf: (name) => {
      const s = schemas[name];
      if (!s) throw new Error(`bench: no schema for table ${name}`);
      return s;
    },
    restoreLogs: () => setLogSink(prev),
  };
}
