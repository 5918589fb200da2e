// Typed errors of the Lambda code. Each carries a stable machine `code`, an HTTP
// status and a message fit to show a user; toJSON() is the wire shape
// {"error": {"code", "message", "fields"?}}. Anything that is not one of these is
// answered as a 500 "internal" with no detail (see functions/core/http.ts).

export interface FieldIssue {
  path: string;
  message: string;
}

export abstract class HaumanaError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  readonly fields?: FieldIssue[];

  constructor(message: string, fields?: FieldIssue[]) {
    super(message);
    if (fields && fields.length) this.fields = fields;
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
      },
    };
  }
}

/** The request is malformed or breaks a limit; nothing was written. */
export class ValidationError extends HaumanaError {
  readonly name = "ValidationError";
  readonly status = 400;
  constructor(
    readonly code: string,
    message: string,
    fields?: FieldIssue[],
  ) {
    super(message, fields);
  }
}

export class PayloadTooLargeError extends HaumanaError {
  readonly name = "PayloadTooLargeError";
  readonly code = "payload_too_large";
  readonly status = 413;
}

export class UnauthorizedError extends HaumanaError {
  readonly name = "UnauthorizedError";
  readonly code = "unauthorized";
  readonly status = 401;
  constructor(
    /** Why, for the log only; never sent to the client. */
    readonly reason: string,
  ) {
    super("Unauthorized");
  }
}

/**
 * The token is good but the request is about someone else (`{userId}` is not the
 * token's `sub`). The same answer whether or not that user exists.
 */
export class ForbiddenError extends HaumanaError {
  readonly name = "ForbiddenError";
  readonly code = "forbidden";
  readonly status = 403;
}

/** A route the app calls that this backend deliberately does not implement. */
export class NotImplementedError extends HaumanaError {
  readonly name = "NotImplementedError";
  readonly code = "not_implemented";
  readonly status = 501;
}

export class NotFoundError extends HaumanaError {
  readonly name = "NotFoundError";
  readonly code = "not_found";
  readonly status = 404;
}

/**
 * A write could not be completed after retries (throttling, contention, a failed
 * batch). The client's data was not acknowledged and it will retry.
 */
export class StoreUnavailableError extends HaumanaError {
  readonly name = "StoreUnavailableError";
  readonly status = 503;
  constructor(
    readonly code: "write_failed" | "read_failed" | "contention",
    message: string,
    /** The underlying cause, for the log only. */
    readonly causeName?: string,
  ) {
    super(message);
  }
}

export class UpstreamError extends HaumanaError {
  readonly name = "UpstreamError";
  readonly code = "upstream_failed";
  readonly status = 502;
}
