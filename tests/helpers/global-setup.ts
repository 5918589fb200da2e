// Starts one in-memory DynamoDB Local for the whole jest run. Suites create their
// own uniquely named tables on it (tests/helpers/dynamo.ts).
import { startDynamoDBLocal } from "../../local/dynamodb-local";

export default async function globalSetup() {
  // The SDK's notice that its 2027 releases need Node 22 is noise in test output;
  // workers and child processes inherit this.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const ddb = await startDynamoDBLocal({ startTimeoutMs: 60000 });
  process.env.DYNAMODB_LOCAL_ENDPOINT = ddb.endpoint;
  (globalThis as any).__HAUMANA_DDB__ = ddb;
}
