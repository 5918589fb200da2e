// API Gateway proxy plumbing shared by the API's handlers: body limits and JSON
// parsing, the user from the authorizer context, typed errors to status codes,
// and the one structured log line per request. No response carries a stack trace
// or an internal message, and no log line carries a payload or a token.
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { MAX_BODY_BYTES } from "../../lib/limits";
import { HaumanaError, PayloadTooLargeError, UnauthorizedError, ValidationError } from "./errors";
import { log, LogFields } from "./log";

export type ProxyEvent = Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded"> & {
  requestContext?: { authorizer?: Record<string, unknown> | null; requestId?: string } | any;
  headers?: Record<string, string | undefined> | null;
  /** The route's parameters, decoded (`{userId}` of /users/{userId}/export). */
  pathParameters?: Record<string, string | undefined> | null;
  httpMethod?: string;
  /** The route as defined ("/users/{userId}/export"), not the request's path. */
  resource?: string;
};

export function jsonResponse(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
}

const INTERNAL = {
  error: {
    code: "internal",
    message: "Something went wrong on the server. Your changes were not accepted; please sync again.",
  },
};

/** The request body as a parsed JSON value, within the size limit. */
export function parseBody(event: ProxyEvent, maxBytes = MAX_BODY_BYTES): unknown {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, "utf8");
  if (bytes > maxBytes) {
    throw new PayloadTooLargeError(`The request body is larger than ${Math.floor(maxBytes / 1024)} KB.`);
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (!text.trim()) throw new ValidationError("invalid_json", "The request body is empty; send a JSON object.");
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError("invalid_json", "The request body is not valid JSON.");
  }
}

/** The verified user, as the authorizer put it in the request context. */
export function authorizedUser(event: ProxyEvent): { userId: string; email?: string } {
  const ctx = event.requestContext?.authorizer;
  const userId = ctx?.userId ?? ctx?.principalId;
  if (typeof userId !== "string" || !userId) throw new UnauthorizedError("no authorizer context");
  return { userId, email: typeof ctx?.email === "string" ? ctx.email : undefined };
}

export interface RouteResult {
  /** The JSON body; absent: no body (204, a redirect). */
  body?: unknown;
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  stats?: LogFields;
}

/** Runs `fn` for one request and answers it, logging one line. */
export async function handleRoute(
  route: string,
  event: ProxyEvent,
  fn: (body: unknown, user: { userId: string; email?: string }) => Promise<RouteResult>,
  /** `body: false`: the route takes no body (GET, DELETE); whatever was sent is ignored. */
  opts: { maxBodyBytes?: number; authorized?: boolean; body?: boolean } = {},
): Promise<APIGatewayProxyResult> {
  const started = Date.now();
  const fields: LogFields = { route, requestId: event.requestContext?.requestId };
  try {
    const user = opts.authorized === false ? { userId: "" } : authorizedUser(event);
    const body = opts.body === false ? undefined : parseBody(event, opts.maxBodyBytes);
    const r = await fn(body, user);
    const status = r.status ?? 200;
    const res =
      r.body === undefined
        ? { statusCode: status, headers: { "Cache-Control": "no-store", ...r.headers }, body: "" }
        : { ...jsonResponse(status, r.body), ...(r.headers ? { headers: { "Content-Type": "application/json", ...r.headers } } : {}) };
    log.info("request", { ...fields, ...r.stats, status, outcome: "ok", responseBytes: res.body.length, durationMs: Date.now() - started });
    return res;
  } catch (e: any) {
    if (e instanceof HaumanaError) {
      const level = e.status >= 500 ? "error" : "warn";
      log[level]("request", {
        ...fields,
        status: e.status,
        outcome: "error",
        errorCode: e.code,
        reason: e instanceof UnauthorizedError ? e.reason : undefined,
        cause: (e as any).causeName,
        durationMs: Date.now() - started,
      });
      return jsonResponse(e.status, e.toJSON());
    }
    log.error("request", { ...fields, status: 500, outcome: "error", errorCode: "internal", errorName: e?.name, durationMs: Date.now() - started });
    return jsonResponse(500, INTERNAL);
  }
}
