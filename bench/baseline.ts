// MEASUREMENT BASELINE ONLY, not production code: a stand-in for the OLD backend's
// /pieces sync, so `npm run bench` can put its cost next to ours in one run.
// What it copies from the old backend is what made it expensive:
//   - every sync Queries the user's whole partition with a FilterExpression
//     (modifiedAt > lastSyncedAt), and does so twice (the old code read the whole
//     repertoire once to diff and once to answer); a filter does not reduce the
//     read units, DynamoDB charges for every item it reads before filtering;
//   - pushes are blind BatchWriteItem, 25 per batch, no version check;
//   - one log line per sync with the whole payload (request and response).
// Own table, simple schema: userId (HASH) / pieceId (RANGE), no index.
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";

export interface BaselineDeps {
  doc: DynamoDBDocumentClient;
  table: string;
  /** Receives the payload log line, as CloudWatch would. */
  log: (line: string) => void;
  now?: () => number;
}

export async function createBaselineTable(client: DynamoDBClient, table: string) {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "userId", AttributeType: "S" },
        { AttributeName: "pieceId", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "userId", KeyType: "HASH" },
        { AttributeName: "pieceId", KeyType: "RANGE" },
      ],
    }),
  );
}

/** Blind BatchWriteItem, 25 items a request, resending UnprocessedItems. */
export async function batchPut(deps: BaselineDeps, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let requests: any[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 10 * attempt));
      const r = await deps.doc.send(new BatchWriteCommand({ RequestItems: { [deps.table]: requests } }));
      requests = (r.UnprocessedItems?.[deps.table] as any[]) ?? [];
    }
  }
}

/** The whole partition, filtered on modifiedAt after `since` (all of it without `since`). */
async function queryAll(deps: BaselineDeps, userId: string, since?: string) {
  const out: Record<string, any>[] = [];
  let startKey: Record<string, any> | undefined;
  do {
    const r = await deps.doc.send(
      new QueryCommand({
        TableName: deps.table,
        KeyConditionExpression: "userId = :u",
        ...(since
          ? { FilterExpression: "modifiedAt > :since", ExpressionAttributeValues: { ":u": userId, ":since": since } }
          : { ExpressionAttributeValues: { ":u": userId } }),
        ExclusiveStartKey: startKey,
      }),
    );
    out.push(...(r.Items ?? []));
    startKey = r.LastEvaluatedKey;
  } while (startKey);
  return out;
}

/**
 * One POST /pieces the old way, as a Lambda proxy handler: body in, proxy result out.
 * Answers in the same v1 shape; correctness beyond that is not the point.
 */
export function baselinePiecesHandler(deps: BaselineDeps) {
  const now = deps.now ?? Date.now;
  return async (userId: string, rawBody: string) => {
    const req = JSON.parse(rawBody);
    const since: string | undefined = req.lastSyncedAt;
    // Read 1: the repertoire, to decide what the device lacks.
    const before = await queryAll(deps, userId, since);
    const pushed = (req.pieces ?? []).filter((p: any) => p.locallyModified);
    const syncedAt = new Date(now()).toISOString();
    const written = pushed.map((p: any) => ({ ...p, userId, version: Number(p.version) + 1, locallyModified: false, lastSyncedAt: syncedAt }));
    await batchPut(deps, written);
    // Read 2: the repertoire again, to build the answer.
    const after = await queryAll(deps, userId, since);
    const pushedIds = new Set<string>(written.map((p: any) => p.pieceId));
    void before; // read and thrown away, as the old code did
    const response = {
      serverPieces: after.filter((p) => !pushedIds.has(p.pieceId)),
      uploadedPieces: [...pushedIds],
      updatedPieces: written,
      syncedAt,
    };
    const body = JSON.stringify(response);
    // The line JSON.stringify({ level, msg, userId, request: req, response }) makes, byte for
    // byte (the bench's bodies are JSON.stringify output), built from the strings at hand:
    // at 10,000 pieces it is some 70 MB, and stringifying it again only slowed the bench.
    deps.log(`{"level":"info","msg":"sync","userId":${JSON.stringify(userId)},"request":${rawBody},"response":${body}}`);
    return { statusCode: 200, headers: { "Content-Type": "application/json" }, body };
  };
}
