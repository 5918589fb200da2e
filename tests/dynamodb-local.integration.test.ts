import { DescribeTableCommand, PutItemCommand, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { createTestTables, TestTables } from "./helpers/dynamo";
import { BUCKET_INDEX, CHANGE_INDEX } from "../lib/tables";

let t: TestTables;
beforeAll(async () => (t = await createTestTables("engine")));
afterAll(async () => t.drop());

test("tables are created from the shared schema, with the change and bucket indexes", async () => {
  const d = await t.client.send(new DescribeTableCommand({ TableName: t.piecesTable }));
  expect(d.Table?.LocalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([BUCKET_INDEX, CHANGE_INDEX].sort());
  const s = await t.client.send(new DescribeTableCommand({ TableName: t.sessionsTable }));
  expect(s.Table?.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([CHANGE_INDEX]);
});

test("the engine enforces conditional writes inside transactions", async () => {
  const item = { userId: { S: "u" }, pieceId: { S: "p" }, version: { N: "1" } };
  await t.client.send(new PutItemCommand({ TableName: t.piecesTable, Item: item }));
  await expect(
    t.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: t.piecesTable, Item: item, ConditionExpression: "attribute_not_exists(userId)" } },
        ],
      }),
    ),
  ).rejects.toThrow(/Transaction cancelled/);
});
