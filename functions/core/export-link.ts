// Where an export document goes and the link the API answers with: an S3 object
// under EXPORT_KEY_PREFIX (encrypted, tagged with the stack's tags, expired by the
// bucket's lifecycle rule), read through a presigned GET URL valid
// EXPORT_LINK_SECONDS. The document can pass 6 MB (about 36 MB at 10,000 pieces),
// which no Lambda response can carry; the app's URLSession follows the redirect.
// The local server has its own ExportLinks (local/server.ts) when no S3 runs.
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { randomUUID } from "node:crypto";
import { EXPORT_KEY_PREFIX, EXPORT_LINK_SECONDS } from "../../lib/exports";
import type { BuiltExport } from "./export";

export interface ExportLinks {
  /** Stores the document; returns a URL that serves it for EXPORT_LINK_SECONDS. */
  publish(doc: BuiltExport): Promise<string>;
}

export interface S3ExportConfig {
  s3: S3Client;
  bucket: string;
  /** Object tags, URL-encoded (lib/exports.ts exportObjectTagging). */
  tagging: string;
}

/** The file name the document is saved under when the link is opened in a browser. */
export function exportFileName(exportedAt: string): string {
  return `haumana-export-${exportedAt.slice(0, 10)}.json`;
}

export function s3ExportLinks(cfg: S3ExportConfig): ExportLinks {
  return {
    async publish(doc) {
      // A random key: the link names no user, and one export never overwrites another.
      const Key = `${EXPORT_KEY_PREFIX}${randomUUID()}.json`;
      await cfg.s3.send(
        new PutObjectCommand({
          Bucket: cfg.bucket,
          Key,
          Body: Buffer.from(doc.json, "utf8"),
          ContentType: "application/json; charset=utf-8",
          ContentDisposition: `attachment; filename="${exportFileName(doc.exportedAt)}"`,
          CacheControl: "private, no-store",
          ServerSideEncryption: "AES256",
          Tagging: cfg.tagging,
        }),
      );
      return getSignedUrl(cfg.s3, new GetObjectCommand({ Bucket: cfg.bucket, Key }), { expiresIn: EXPORT_LINK_SECONDS });
    },
  };
}
