// Request and response limits shared by the handlers, the local server and tests,
// and the functions' timeouts (infra sets them, the monitoring alarms on them).
import type { FunctionName } from "./names";

const KB = 1024;
const MB = 1024 * KB;

/** Largest request body accepted (Lambda's synchronous payload limit is 6 MB). */
export const MAX_BODY_BYTES = 6 * MB;
/**
 * Pieces one /pieces request may carry. The shipped app sends its whole repertoire
 * on every sync, so this is above anything 6 MB of the app's pieces can hold
 * (the smallest piece it sends is about 330 bytes): the body limit decides.
 */
export const MAX_PIECES_PER_REQUEST = 20000;
/** Sessions one /sessions request may carry (same reasoning: the body limit decides). */
export const MAX_SESSIONS_PER_REQUEST = 20000;
/**
 * Pushed pieces (edits, adoptions, deletes) one request writes. The rest are left
 * unacknowledged and go through at the next sync, so one huge backlog cannot run
 * a request past API Gateway's 29 s.
 */
export const MAX_PUSHES_PER_REQUEST = 2000;
/** Sessions one request writes; the rest are left for the next sync. */
export const MAX_SESSION_WRITES_PER_REQUEST = 2000;
/** DynamoDB's item size limit. */
export const MAX_ITEM_BYTES = 400 * KB;
/**
 * A piece is stored only if its item fits this, which leaves room under
 * MAX_ITEM_BYTES for the sync metadata a later write adds (field history, keys).
 * It is the only limit on a piece's content: the app's editor has none.
 */
export const MAX_PIECE_ITEM_BYTES = MAX_ITEM_BYTES - 8 * KB;
/** `language` is a code from the app's picker ("haw", "eng"). */
export const MAX_LANGUAGE_CHARS = 35;
/**
 * Budget for a response as Lambda returns it: the body is a JSON string inside the
 * proxy-result JSON, so it is measured escaped. Lambda's limit is 6 MB.
 */
export const RESPONSE_BUDGET_BYTES = 5.5 * MB;
/**
 * Responses of at least this many bytes are gzip-compressed for clients that send
 * Accept-Encoding (iOS's URLSession does): API Gateway's minimumCompressionSize
 * (infra/api.ts), and the local server the same way.
 */
export const MINIMUM_COMPRESSION_BYTES = 1024;
/** A new client's explicit page size (pieces or sessions per response). */
export const DEFAULT_PAGE_LIMIT = 500;
export const MAX_PAGE_LIMIT = 2000;
/** Tombstones of deleted pieces are kept this long, then DynamoDB's TTL removes them. */
export const TOMBSTONE_RETENTION_DAYS = 90;
/** Per field, how many of its past values (version and hash) a piece keeps for merges. */
export const FIELD_HISTORY_DEPTH = 10;
/**
 * Server versions are multiples of this. The app adds 1 to its local version at
 * every practice start and favourite toggle, so a pushed version is "the last
 * server version it took + any number of local bumps"; rounding it down to a
 * multiple of the step recovers that server version (the device's base) as long
 * as a device bumps one piece fewer than a million times between two syncs.
 */
export const VERSION_STEP = 2 ** 20;
/** Largest version a request may carry: integers the app (Swift Int) and JSON (doubles) both hold exactly. */
export const MAX_VERSION = Number.MAX_SAFE_INTEGER;
/** Largest version the server issues (2^33 server versions of one piece). */
export const MAX_ISSUED_VERSION = 2 ** 53 - VERSION_STEP;
/** Items in one TransactWriteItems (AWS allows 100; one slot is the user's counter). */
export const MAX_ITEMS_PER_TRANSACTION = 99;
/**
 * Bytes of the items one transaction writes, as DynamoDB sizes them. DynamoDB
 * allows 4 MB; half of it leaves room for the request's own overhead.
 */
export const MAX_TRANSACTION_BYTES = 2 * MB;
/** Buckets of the per-user repertoire digest (lib/tables.ts, functions/core/digest.ts). */
export const DIGEST_BUCKETS = 256;
/**
 * A full pull reads the index entries of at most this many differing buckets (about
 * one read unit each at 10,000 pieces); a device that differs in more (a new device)
 * reads the changes from the start instead.
 */
export const MAX_DIFF_BUCKETS = 128;

/** API Gateway answers 504 when a Lambda integration takes longer than this (REST API default). */
export const API_GATEWAY_TIMEOUT_SECONDS = 29;
/**
 * Lambda timeout of the sync functions (sync-pieces, sync-sessions). Below API
 * Gateway's 29 s with room for a cold start, so a sync that runs out of retries still
 * answers 503 itself; the store's retries must give up before this.
 */
export const SYNC_FUNCTION_TIMEOUT_SECONDS = 20;
/**
 * One DynamoDB request (one attempt) that takes longer than this is abandoned and
 * retried; without it a stalled connection could hold a sync past its timeout.
 */
export const DYNAMODB_REQUEST_TIMEOUT_MS = 4000;
/**
 * How long a sync request may keep retrying DynamoDB: what is left of its function's
 * timeout after one more attempt that may run to DYNAMODB_REQUEST_TIMEOUT_MS and a
 * second to answer. Past it the request answers 503 and nothing is acknowledged.
 */
export const SYNC_RETRY_BUDGET_MS = SYNC_FUNCTION_TIMEOUT_SECONDS * 1000 - DYNAMODB_REQUEST_TIMEOUT_MS - 1000;
/**
 * Lambda timeout of the account-data functions (user-export, user-delete): an export
 * of 10,000 pieces reads about 36 MB and writes it to S3, a deletion sends one
 * BatchWriteItem per 25 items. Below API Gateway's 29 s, so API Gateway never
 * answers for them; a deletion cut short is completed by the app's retry.
 */
export const ACCOUNT_FUNCTION_TIMEOUT_SECONDS = 25;
/** How long an account-data request may keep retrying DynamoDB (as SYNC_RETRY_BUDGET_MS). */
export const ACCOUNT_RETRY_BUDGET_MS = ACCOUNT_FUNCTION_TIMEOUT_SECONDS * 1000 - DYNAMODB_REQUEST_TIMEOUT_MS - 1000;
/** Lambda timeout of each function, in seconds. */
export const FUNCTION_TIMEOUT_SECONDS = {
  authorizer: 10,
  "auth-sync": 15,
  "sync-pieces": SYNC_FUNCTION_TIMEOUT_SECONDS,
  "sync-sessions": SYNC_FUNCTION_TIMEOUT_SECONDS,
  "user-export": ACCOUNT_FUNCTION_TIMEOUT_SECONDS,
  "user-delete": ACCOUNT_FUNCTION_TIMEOUT_SECONDS,
} as const satisfies Record<FunctionName, number>;
