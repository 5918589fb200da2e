// DynamoDB access for sync: the per-user change sequence, consistent batch reads,
// transactional commits and change queries, each with the retries that keep a
// throttled or contended write from being lost or acknowledged falsely.
//
// Every write of a user's pieces or sessions goes through commit(): one
// TransactWriteItems that advances the user's counter item (conditioned on the
// value read) and writes the items (each conditioned on the version read). So the
// change sequence has no gaps a reader could skip, and a concurrent writer makes
// the transaction fail and re-plan instead of overwriting.
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { createHash, randomUUID } from "node:crypto";
import { MAX_ITEMS_PER_TRANSACTION } from "../../lib/limits";
import { BUCKET_INDEX, BUCKET_KEY, CHANGE_INDEX, CHANGE_KEY, PIECES_TABLE, SESSIONS_TABLE, SYNC_STATE_KEY } from "../../lib/tables";
import { bucketPrefix, digestFrom, emptyDigest, entryOfBucketKey, xorInto } from "./digest";
import { StoreUnavailableError } from "./errors";

export interface StoreDeps {
  doc: DynamoDBDocumentClient;
  piecesTable: string;
  sessionsTable: string;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts for one logical operation (throttling, contention, unprocessed keys). */
  maxAttempts?: number;
  /**
   * When (in `now()` time) retries must stop, so the request still answers 503 in
   * time; set per request with withDeadline().
   */
  deadlineAt?: number;
}

export interface SyncState {
  seq: number;
  /** Server time of the latest change, ISO with milliseconds. */
  changedAt: string;
  exists: boolean;
  /** The repertoire digest (functions/core/digest.ts) as of `seq`. */
  digest: Buffer;
  /**
   * When the account was deleted (DELETE /users/{userId}), if it was: the repertoire
   * of before that time is never taken back from a device that still holds it.
   */
  accountDeletedAt?: string;
}

export type TableKind = "pieces" | "sessions";

/** One item write inside a commit. */
export interface PlannedWrite {
  table: TableKind;
  item: Record<string, unknown>;
  /** The version the item had when read; undefined means it must not exist yet. */
  expectedVersion?: number;
  /** Sessions carry no version: condition on the change key read instead. */
  expectedChangeKey?: string;
  /** Entry hashes to XOR into the user's digest (a piece's old entry and its new one). */
  digest?: { bucket: number; hash: Buffer }[];
}

export interface CommitStamp {
  seq: number;
  changedAt: string;
  changeKey: string;
  /** The user's sync state right after this commit. */
  state: SyncState;
}

const RETRYABLE = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TransactionConflictException",
  "TransactionInProgressException",
  "InternalServerError",
  "InternalFailure",
  "ServiceUnavailable",
  "TimeoutError",
]);
const RETRYABLE_REASONS = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

/** Node's and the SDK's names for a connection that failed, dropped or timed out (as in @smithy/service-error-classification). */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException", "AbortError"]);

function isNetworkError(e: any): boolean {
  if (NETWORK_CODES.has(e.code) || NETWORK_CODES.has(e.cause?.code) || NETWORK_NAMES.has(e.name)) return true;
  return typeof e.message === "string" && /socket hang up|ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED|network error|connection (?:reset|closed)/i.test(e.message);
}

export function isRetryable(e: any): boolean {
  if (!e) return false;
  if (RETRYABLE.has(e.name)) return true;
  if (e.$metadata?.httpStatusCode >= 500) return true;
  // No HTTP answer at all: the connection dropped ("socket hang up"), timed out or
  // was refused. The SDK rethrows these as plain errors, with Node's code if any.
  if (e.$metadata?.httpStatusCode === undefined && isNetworkError(e)) return true;
  if (e.name === "TransactionCanceledException") {
    const codes: string[] = (e.CancellationReasons ?? []).map((r: any) => r?.Code).filter(Boolean);
    return codes.some((c) => RETRYABLE_REASONS.has(c)) && !codes.includes("ConditionalCheckFailed");
  }
  return false;
}

export function isConditionFailure(e: any): boolean {
  if (e?.name === "ConditionalCheckFailedException") return true;
  if (e?.name !== "TransactionCanceledException") return false;
  return (e.CancellationReasons ?? []).some((r: any) => r?.Code === "ConditionalCheckFailed");
}

/**
 * Key of a user's deletion record: in the pieces table, outside the user's partition
 * (a hash of the id), so no item of the user remains after a deletion.
 */
export function deletionRecordKey(userId: string): Record<string, string> {
  return {
    [PIECES_TABLE.hashKey]: `#deleted#${createHash("sha256").update(userId).digest("hex")}`,
    [PIECES_TABLE.rangeKey]: "#deleted",
  };
}

/** Change key: server time, then the sequence number, so it sorts both ways at once. */
export function changeKey(changedAt: string, seq: number): string {
  return `${changedAt}|${String(seq).padStart(12, "0")}`;
}

export function floorSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/**
 * Server time of the next change: now, but always in a later whole second than the
 * previous change. A v1 client's cursor is a time cut to whole seconds; this makes
 * "the second after the latest change" a point that every later write is at or
 * after, whatever the clocks of the Lambda containers say.
 */
export function nextChangedAt(prev: string | undefined, now: number): string {
  const floor = prev ? floorSecond(Date.parse(prev)) + 1000 : 0;
  return new Date(Math.max(now, floor)).toISOString();
}

export class Store {
  readonly doc: DynamoDBDocumentClient;
  readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxAttempts: number;
  private readonly tables: Record<TableKind, string>;
  private readonly deadlineAt?: number;

  constructor(private readonly deps: StoreDeps) {
    this.deadlineAt = deps.deadlineAt;
    this.doc = deps.doc;
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.maxAttempts = deps.maxAttempts ?? 8;
    this.tables = { pieces: deps.piecesTable, sessions: deps.sessionsTable };
  }

  tableName(kind: TableKind): string {
    return this.tables[kind];
  }

  private keyOf(kind: TableKind) {
    return kind === "pieces" ? PIECES_TABLE : SESSIONS_TABLE;
  }

  /** The same store, whose retries stop `budgetMs` from now (one request's share of the function's timeout). */
  withDeadline(budgetMs: number): Store {
    return new Store({ ...this.deps, deadlineAt: this.now() + budgetMs });
  }

  /** True when the request's retry budget is spent. */
  pastDeadline(extraMs = 0): boolean {
    return this.deadlineAt !== undefined && this.now() + extraMs > this.deadlineAt;
  }

  /**
   * Exponential backoff with full jitter, 25 ms doubling to 1.6 s. False (and no
   * wait) when waiting would pass the deadline: the caller gives up and answers 503.
   */
  async backoff(attempt: number): Promise<boolean> {
    const cap = Math.min(1600, 25 * 2 ** attempt);
    const ms = Math.floor(Math.random() * cap) + 5;
    if (this.pastDeadline(ms)) return false;
    await this.sleep(ms);
    return true;
  }

  /** Runs `op`, retrying what DynamoDB says is transient, within the attempts and the deadline. */
  async withRetry<T>(what: "read" | "write", op: () => Promise<T>): Promise<T> {
    let last: any;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        return await op();
      } catch (e: any) {
        if (!isRetryable(e)) throw e;
        last = e;
        if (attempt + 1 < this.maxAttempts && !(await this.backoff(attempt))) break;
      }
    }
    throw new StoreUnavailableError(
      what === "read" ? "read_failed" : "write_failed",
      what === "read"
        ? "The server could not read your data right now. Nothing was changed; please sync again."
        : "The server could not save your changes right now. They were not accepted; please sync again.",
      last?.name,
    );
  }

  async getSyncState(userId: string): Promise<SyncState> {
    const r = await this.withRetry("read", () =>
      this.doc.send(
        new GetCommand({
          TableName: this.tables.pieces,
          Key: { [PIECES_TABLE.hashKey]: userId, [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY },
          ConsistentRead: true,
        }),
      ),
    );
    if (!r.Item) {
      // No sync state: a new user, or one whose account was deleted (see markAccountDeleted).
      const deletedAt = await this.accountDeletion(userId);
      return { seq: 0, changedAt: "", exists: false, digest: emptyDigest(), ...(deletedAt ? { accountDeletedAt: deletedAt } : {}) };
    }
    return {
      seq: Number(r.Item.seq),
      changedAt: String(r.Item.changedAt),
      exists: true,
      digest: digestFrom(r.Item.digest),
      ...(typeof r.Item.accountDeletedAt === "string" ? { accountDeletedAt: r.Item.accountDeletedAt } : {}),
    };
  }

  /** Creates the user's counter if absent (first contact); returns the state. */
  async ensureSyncState(userId: string): Promise<SyncState> {
    const s = await this.getSyncState(userId);
    if (s.exists) return s;
    const changedAt = new Date(this.now()).toISOString();
    try {
      await this.withRetry("write", () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tables.pieces,
            Item: { [PIECES_TABLE.hashKey]: userId, [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY, seq: 0, changedAt, accountDeletedAt: s.accountDeletedAt },
            ConditionExpression: "attribute_not_exists(#k)",
            ExpressionAttributeNames: { "#k": PIECES_TABLE.hashKey },
          }),
        ),
      );
      return { ...s, seq: 0, changedAt, exists: true, digest: emptyDigest() };
    } catch (e) {
      if (isConditionFailure(e)) return this.getSyncState(userId);
      throw e;
    }
  }

  /** Strongly consistent BatchGetItem of the given range keys, resending UnprocessedKeys. */
  async getMany(kind: TableKind, userId: string, ids: string[]): Promise<Map<string, Record<string, any>>> {
    const schema = this.keyOf(kind);
    const table = this.tables[kind];
    const out = new Map<string, Record<string, any>>();
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, any>[] = ids
        .slice(i, i + 100)
        .map((id) => ({ [schema.hashKey]: userId, [schema.rangeKey]: id }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= this.maxAttempts || (attempt > 0 && !(await this.backoff(attempt)))) {
          throw new StoreUnavailableError(
            "read_failed",
            "The server could not read your data right now. Nothing was changed; please sync again.",
            "UnprocessedKeys",
          );
        }
        const r = await this.withRetry("read", () =>
          this.doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } })),
        );
        for (const item of r.Responses?.[table] ?? []) out.set(String(item[schema.rangeKey]), item);
        keys = (r.UnprocessedKeys?.[table]?.Keys as Record<string, any>[]) ?? [];
      }
    }
    return out;
  }

  /**
   * Writes `writes` in one transaction that also advances the user's counter from
   * `state`. Returns the stamp given to the items, or "conflict" when any
   * condition failed (someone else wrote first: re-read and re-plan).
   */
  async commit(userId: string, state: SyncState, writes: PlannedWrite[]): Promise<CommitStamp | "conflict"> {
    if (writes.length === 0) throw new Error("commit: nothing to write");
    if (writes.length > MAX_ITEMS_PER_TRANSACTION) throw new Error("commit: too many items for one transaction");
    const changedAt = nextChangedAt(state.exists ? state.changedAt : undefined, this.now());
    const seq = state.seq + writes.length;
    const hk = PIECES_TABLE.hashKey;
    const deltas = writes.flatMap((w) => w.digest ?? []);
    const digest = Buffer.from(state.digest);
    for (const d of deltas) xorInto(digest, d.bucket, d.hash);
    const counter = state.exists
      ? {
          Update: {
            TableName: this.tables.pieces,
            Key: { [hk]: userId, [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY },
            UpdateExpression: deltas.length ? "SET seq = :seq, changedAt = :at, digest = :d" : "SET seq = :seq, changedAt = :at",
            ConditionExpression: "seq = :prev",
            ExpressionAttributeValues: { ":seq": seq, ":at": changedAt, ":prev": state.seq, ...(deltas.length ? { ":d": digest } : {}) },
          },
        }
      : {
          Put: {
            TableName: this.tables.pieces,
            Item: {
              [hk]: userId,
              [PIECES_TABLE.rangeKey]: SYNC_STATE_KEY,
              seq,
              changedAt,
              ...(deltas.length ? { digest } : {}),
              ...(state.accountDeletedAt ? { accountDeletedAt: state.accountDeletedAt } : {}),
            },
            ConditionExpression: "attribute_not_exists(#k)",
            ExpressionAttributeNames: { "#k": hk },
          },
        };
    const items = writes.map((w, i) => {
      const s = state.seq + i + 1;
      const Item = { ...w.item, [hk]: userId, seq: s, changedAt, [CHANGE_KEY]: changeKey(changedAt, s) };
      const TableName = this.tables[w.table];
      if (w.expectedVersion !== undefined) {
        return {
          Put: {
            TableName,
            Item,
            ConditionExpression: "#v = :v",
            ExpressionAttributeNames: { "#v": "version" },
            ExpressionAttributeValues: { ":v": w.expectedVersion },
          },
        };
      }
      if (w.expectedChangeKey !== undefined) {
        return {
          Put: {
            TableName,
            Item,
            ConditionExpression: "#c = :c",
            ExpressionAttributeNames: { "#c": CHANGE_KEY },
            ExpressionAttributeValues: { ":c": w.expectedChangeKey },
          },
        };
      }
      return {
        Put: { TableName, Item, ConditionExpression: "attribute_not_exists(#k)", ExpressionAttributeNames: { "#k": hk } },
      };
    });
    // One token for every attempt of this commit: if an attempt was applied but its
    // answer lost (a dropped connection), DynamoDB answers the retry with success
    // instead of failing it on the conditions the first attempt already consumed.
    const ClientRequestToken = randomUUID();
    try {
      await this.withRetry("write", () =>
        this.doc.send(new TransactWriteCommand({ TransactItems: [counter, ...items] as any, ClientRequestToken })),
      );
    } catch (e) {
      if (isConditionFailure(e)) return "conflict";
      throw e;
    }
    return {
      seq,
      changedAt,
      changeKey: changeKey(changedAt, seq),
      state: { seq, changedAt, exists: true, digest, ...(state.accountDeletedAt ? { accountDeletedAt: state.accountDeletedAt } : {}) },
    };
  }

  /**
   * One page of a user's changes on the change index, strongly consistent, in
   * change order (or newest first). Keys run from `lower` (inclusive) to `upper`
   * (inclusive); callers that need "after a cursor" drop the cursor's own item.
   */
  async queryChanges(
    kind: TableKind,
    userId: string,
    opts: {
      lower?: string;
      upper?: string;
      descending?: boolean;
      exclusiveStartKey?: Record<string, any>;
      limit: number;
    },
  ) {
    const schema = this.keyOf(kind);
    const names: Record<string, string> = { "#h": schema.hashKey };
    const values: Record<string, unknown> = { ":h": userId };
    let cond = "#h = :h";
    if (opts.lower !== undefined || opts.upper !== undefined) {
      names["#c"] = CHANGE_KEY;
      values[":lo"] = opts.lower ?? "0";
      values[":hi"] = opts.upper ?? "~";
      cond += " AND #c BETWEEN :lo AND :hi";
    }
    const input: QueryCommandInput = {
      TableName: this.tables[kind],
      IndexName: CHANGE_INDEX,
      KeyConditionExpression: cond,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
      // The index holds keys only; an LSI fetches the rest from the table.
      Select: "ALL_ATTRIBUTES",
      ScanIndexForward: !opts.descending,
      Limit: opts.limit,
      ExclusiveStartKey: opts.exclusiveStartKey,
    };
    const r = await this.withRetry("read", () => this.doc.send(new QueryCommand(input)));
    return { items: (r.Items ?? []) as Record<string, any>[], lastKey: r.LastEvaluatedKey };
  }

  /**
   * When the user's account was deleted, from the deletion record: an item outside
   * the user's partition (keyed by a hash of the user id, holding only the time), so
   * that deleting every item of the user leaves the record behind.
   */
  private async accountDeletion(userId: string): Promise<string | undefined> {
    const r = await this.withRetry("read", () =>
      this.doc.send(new GetCommand({ TableName: this.tables.pieces, Key: deletionRecordKey(userId), ConsistentRead: true })),
    );
    return typeof r.Item?.deletedAt === "string" ? r.Item.deletedAt : undefined;
  }

  /**
   * The entry hash (hex) of every live piece of a user in one digest bucket, from
   * the keys-only byBucket index, strongly consistent.
   */
  async queryBucket(userId: string, bucket: number): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let start: Record<string, any> | undefined;
    do {
      const input: QueryCommandInput = {
        TableName: this.tables.pieces,
        IndexName: BUCKET_INDEX,
        KeyConditionExpression: "#h = :h AND begins_with(#b, :b)",
        ExpressionAttributeNames: { "#h": PIECES_TABLE.hashKey, "#b": BUCKET_KEY },
        ExpressionAttributeValues: { ":h": userId, ":b": bucketPrefix(bucket) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      };
      const r = await this.withRetry("read", () => this.doc.send(new QueryCommand(input)));
      for (const it of r.Items ?? []) out.set(String(it[PIECES_TABLE.rangeKey]), entryOfBucketKey(String(it[BUCKET_KEY])));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
