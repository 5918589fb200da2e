// The sync routes as functions of their Store, so the Lambda handlers, the local
// server and the tests wire the same code to different DynamoDB endpoints.
import { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { handleRoute, ProxyEvent } from "./http";
import { syncPieces, SyncOptions } from "./pieces";
import { syncSessions } from "./sessions";
import { Store, StoreDeps } from "./store";
import { parsePiecesRequest, parseSessionsRequest } from "./validation";

export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3, ...config }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function piecesRoute(store: Store, opts: SyncOptions = {}) {
  return (event: ProxyEvent) =>
    handleRoute("POST /pieces", event, async (body, { userId }) => {
      const req = parsePiecesRequest(body);
      const { response, stats } = await syncPieces(store, userId, req, opts);
      return { body: response, stats: { ...stats, protocol: req.protocol ?? 1, sent: req.pieces.length + req.refused.length } };
    });
}

export function sessionsRoute(store: Store, opts: SyncOptions = {}) {
  return (event: ProxyEvent) =>
    handleRoute("POST /sessions", event, async (body, { userId }) => {
      const req = parseSessionsRequest(body);
      const { response, stats } = await syncSessions(store, userId, req, opts);
      return { body: response, stats: { ...stats, protocol: req.protocol ?? 1 } };
    });
}

/** Reads a required environment variable at module load; fails fast if missing. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

export function storeFromEnv(overrides: Partial<StoreDeps> = {}): Store {
  return new Store({
    doc: documentClient(),
    piecesTable: requireEnv("PIECES_TABLE"),
    sessionsTable: requireEnv("SESSIONS_TABLE"),
    ...overrides,
  });
}
