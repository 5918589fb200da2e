// Request and response limits shared by the handlers, the local server and tests.

const KB = 1024;
const MB = 1024 * KB;

/** Largest request body accepted (Lambda's synchronous payload limit is 6 MB). */
export const MAX_BODY_BYTES = 6 * MB;
/** Pieces one /pieces request may carry (a v1 device sends its whole repertoire). */
export const MAX_PIECES_PER_REQUEST = 5000;
/** Sessions one /sessions request may carry. */
export const MAX_SESSIONS_PER_REQUEST = 5000;
export const MAX_TITLE_CHARS = 500;
/** lyrics, englishTranslation and notes: UTF-8 bytes each. */
export const MAX_TEXT_BYTES = 100 * KB;
export const MAX_SHORT_TEXT_CHARS = 2000;
/**
 * Budget for a response as Lambda returns it: the body is a JSON string inside the
 * proxy-result JSON, so it is measured escaped. Lambda's limit is 6 MB.
 */
export const RESPONSE_BUDGET_BYTES = 5.5 * MB;
/** A new client's explicit page size (pieces or sessions per response). */
export const DEFAULT_PAGE_LIMIT = 500;
export const MAX_PAGE_LIMIT = 2000;
/** Tombstones of deleted pieces are kept this long, then DynamoDB's TTL removes them. */
export const TOMBSTONE_RETENTION_DAYS = 90;
/** Per-piece field-hash history kept for three-way merges. */
export const MERGE_HISTORY_DEPTH = 10;
/** Items in one TransactWriteItems (AWS allows 100; one slot is the user's counter). */
export const MAX_ITEMS_PER_TRANSACTION = 99;
/** Escaped JSON size of one transaction's items; keeps a v1 page able to hold one. */
export const MAX_TRANSACTION_BYTES = 2 * MB;
