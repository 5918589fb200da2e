// DynamoDB Local clients and per-suite tables for tests.
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes } from "node:crypto";
import { createTableInput, PIECES_TABLE, SESSIONS_TABLE } from "../../lib/tables";

export function localEndpoint(): string {
  const e = process.env.DYNAMODB_LOCAL_ENDPOINT;
  if (!e) throw new Error("DYNAMODB_LOCAL_ENDPOINT is not set: run through jest (tests/helpers/global-setup.ts)");
  return e;
}

export function localClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: localEndpoint(),
    region: "us-west-2",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

export interface TestTables {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  piecesTable: string;
  sessionsTable: string;
  drop(): Promise<void>;
}

/** Creates a fresh pair of tables from the shared schemas. */
export async function createTestTables(label = "t"): Promise<TestTables> {
  const client = localClient();
  const suffix = `${label}-${randomBytes(4).toString("hex")}`;
  const piecesTable = `pieces-${suffix}`;
  const sessionsTable = `sessions-${suffix}`;
  await client.send(new CreateTableCommand(createTableInput(PIECES_TABLE, piecesTable)));
  await client.send(new CreateTableCommand(createTableInput(SESSIONS_TABLE, sessionsTable)));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    client,
    doc,
    piecesTable,
    sessionsTable,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: piecesTable })).catch(() => undefined);
      await client.send(new DeleteTableCommand({ TableName: sessionsTable })).catch(() => undefined);
      client.destroy();
    },
  };
}

/** Every item of a table, paged to its end, strongly consistent. */
export async function scanTable(doc: DynamoDBDocumentClient, table: string): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  let start: Record<string, any> | undefined;
  do {
    const r = await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
    out.push(...(r.Items ?? []));
    start = r.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Items as key-sorted JSON, sorted: equal lists mean byte-for-byte equal items. */
export const canonicalItems = (items: Record<string, any>[]) => items.map((i) => JSON.stringify(i, Object.keys(i).sort())).sort();
