// Ours, as deployed: the real /pieces and /sessions routes (functions/core/routes.ts)
// over a Store on DynamoDB Local, called with the event API Gateway would send
// after the authorizer, log lines captured through setLogSink.
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { setLogSink } from "../functions/core/log";
import { piecesRoute, sessionsRoute } from "../functions/core/routes";
import { Store } from "../functions/core/store";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE } from "../lib/tables";

export interface ProxyCall {
  status: number;
  body: any;
  /** The proxy result as Lambda serialises it. */
  resultBytes: number;
  /** Bytes logged while answering (lines plus newlines). */
  logBytes: number;
  durationMs: number;
}

export interface Ours {
  pieces(userId: string, body: unknown): Promise<ProxyCall>;
  sessions(userId: string, body: unknown): Promise<ProxyCall>;
  restoreLogs(): void;
}

export async function createOurs(client: DynamoDBClient, doc: DynamoDBDocumentClient, prefix: string): Promise<Ours> {
  const piecesTable = `${prefix}-pieces`;
  const sessionsTable = `${prefix}-sessions`;
  await client.send(new CreateTableCommand(createTableInput(PIECES_TABLE, piecesTable)));
  await client.send(new CreateTableCommand(createTableInput(SESSIONS_TABLE, sessionsTable)));
  const store = new Store({ doc, piecesTable, sessionsTable });
  const routes = { pieces: piecesRoute(store), sessions: sessionsRoute(store) };
  let logged = 0;
  const prev = setLogSink((line) => (logged += Buffer.byteLength(line, "utf8") + 1));
  const call = (route: keyof typeof routes) => async (userId: string, body: unknown): Promise<ProxyCall> => {
    const raw = JSON.stringify(body);
    logged = 0;
    const t = process.hrtime.bigint();
    const res = await routes[route]({
      body: raw,
      isBase64Encoded: false,
      requestContext: { authorizer: { userId, email: `${userId}@example.com` }, requestId: "bench" },
    });
    const durationMs = Number(process.hrtime.bigint() - t) / 1e6;
    return {
      status: res.statusCode,
      body: JSON.parse(res.body),
      resultBytes: Buffer.byteLength(JSON.stringify(res), "utf8"),
      logBytes: logged,
      durationMs,
    };
  };
  return { pieces: call("pieces"), sessions: call("sessions"), restoreLogs: () => setLogSink(prev) };
}
