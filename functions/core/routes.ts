// The sync routes as functions of their Store, so the Lambda handlers, the local
// server and the tests wire the same code to different DynamoDB endpoints.
import { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DYNAMODB_REQUEST_TIMEOUT_MS, SYNC_RETRY_BUDGET_MS } from "../../lib/limits";
import { handleRoute, ProxyEvent } from "./http";
import { syncPieces, SyncOptions } from "./pieces";
import { syncSessions } from "./sessions";
import { Store, StoreDeps } from "./store";
import { parsePiecesRequest, parseSessionsRequest } from "./validation";

/**
 * The DynamoDB client settings of the sync code. The store does every retry itself
 * (it knows which errors are transient and when the request's time is up), so the
 * SDK makes one attempt, and an attempt that stalls is abandoned after
 * DYNAMODB_REQUEST_TIMEOUT_MS.
 */
export const SYNC_DYNAMODB_CONFIG = {
  maxAttempts: 1,
  requestHandler: { requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS, connectionTimeout: DYNAMODB_REQUEST_TIMEOUT_MS / 2 },
} satisfies DynamoDBClientConfig;

/** The document client a Store works through, over `client`. */
export function storeDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The DynamoDB client of the sync code (SYNC_DYNAMODB_CONFIG, then `config`). */
export function documentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return storeDocumentClient(new DynamoDBClient({ ...SYNC_DYNAMODB_CONFIG, ...config }));
}

export function piecesRoute(store: Store, opts: SyncOptions = {}) {
  return (event: ProxyEvent) =>
    handleRoute("POST /pieces", event, async (body, { userId }) => {
      const req = parsePiecesRequest(body);
      const { response, stats } = await syncPieces(store.withDeadline(SYNC_RETRY_BUDGET_MS), userId, req, opts);
      return { body: response, stats: { ...stats, protocol: req.protocol ?? 1, sent: req.pieces.length + req.refused.length } };
    });
}

export function sessionsRoute(store: Store, opts: SyncOptions = {}) {
  return (event: ProxyEvent) =>
    handleRoute("POST /sessions", event, async (body, { userId }) => {
      const req = parseSessionsRequest(body);
      const { response, stats } = await syncSessions(store.withDeadline(SYNC_RETRY_BUDGET_MS), userId, req, opts);
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
