// The account-data export (GET /users/{userId}/export), defined once: the Lambda
// writes the document under EXPORT_KEY_PREFIX and answers with a link valid
// EXPORT_LINK_SECONDS; the Pulumi program grants the function exactly that prefix
// and expires what is under it after EXPORT_RETENTION_DAYS; the local server serves
// links the same way.
import type { TagSet } from "./tags";

/** `formatVersion` of the document; raise it when a field changes meaning or goes away. */
export const EXPORT_FORMAT_VERSION = 1;
/** Every export object's key starts with this (the function's grants and the expiry rule are scoped to it). */
export const EXPORT_KEY_PREFIX = "exports/";
/** How long the link the API answers with stays valid: time for the app to follow the redirect. */
export const EXPORT_LINK_SECONDS = 300;
/** S3 deletes an export this many days after it was written (lifecycle rule). */
export const EXPORT_RETENTION_DAYS = 1;

/** The object tags of an export: the stack's tag set, as S3's `x-amz-tagging` header takes it. */
export function exportObjectTagging(tags: TagSet): string {
  return new URLSearchParams(Object.entries(tags)).toString();
}
