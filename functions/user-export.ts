// Lambda handler for GET /users/{userId}/export and GET /users/{userId}/consent-status
// (behind the Google-token authorizer). Configuration is read once at load; a
// missing variable fails the cold start. The export reads with a document client of
// its own (SDK retries, no Store): see functions/core/export.ts.
import { S3Client } from "@aws-sdk/client-s3";
import { byRoute, consentStatusRoute, exportRoute } from "./core/account-routes";
import { s3ExportLinks } from "./core/export-link";
import { documentClient, requireEnv } from "./core/routes";

const tables = { pieces: requireEnv("PIECES_TABLE"), sessions: requireEnv("SESSIONS_TABLE") };
const source = { doc: documentClient({ maxAttempts: 3 }), tableName: (kind: keyof typeof tables) => tables[kind], now: Date.now };
// Path-style addressing only against an emulator (an endpoint override); in AWS the
// link is the bucket's own virtual-hosted URL.
const s3 = new S3Client({ forcePathStyle: !!(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL) });
const links = s3ExportLinks({ s3, bucket: requireEnv("EXPORT_BUCKET"), tagging: requireEnv("EXPORT_OBJECT_TAGGING") });

export const handler = byRoute({
  "GET /users/{userId}/export": exportRoute(source, links),
  "GET /users/{userId}/consent-status": consentStatusRoute(),
});
