// Who is calling: turns a bearer token (a Google ID token in production, a local
// dev token on the local server) into a VerifiedUser, and builds the API Gateway
// TOKEN-authorizer decision on top of it. Every failure is an UnauthorizedError
// whose `reason` is a fixed word for the log; the token itself is never logged.
//
// Keys come from jose's createRemoteJWKSet, created once per verifier (= once per
// Lambda container): cached, refetched on an unknown `kid` at most once per
// cooldown, and every key lookup is bounded by a deadline so a slow or down JWKS
// denies instead of hanging.
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { createRemoteJWKSet, errors as joseErrors, JWTPayload, jwtVerify, JWTVerifyGetKey } from "jose";
import * as http from "node:http";
import * as https from "node:https";
import {
  CLOCK_SKEW_SECONDS,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_TIMEOUT_MS,
  MAX_TOKEN_AGE_SECONDS,
} from "../../lib/google";
import { UnauthorizedError } from "./errors";
import { log } from "./log";
import { arnPath, AUTHORIZED_ROUTES } from "../../lib/routes";

export interface TokenVerifierConfig {
  jwksUri: string;
  /** Accepted `iss` values (Google: both spellings, lib/google.ts GOOGLE_ISSUERS). */
  issuers: readonly string[];
  /** Accepted `aud` values: the app's OAuth client IDs. */
  audiences: readonly string[];
  clockSkewSeconds?: number;
  /** Oldest `iat` accepted, in seconds (before skew). */
  maxTokenAgeSeconds?: number;
  /** Bound on one key lookup, JWKS fetch included. */
  jwksTimeoutMs?: number;
  /** Minimum time between refetches caused by an unknown `kid`. */
  cooldownMs?: number;
  /** Keys older than this are refetched before use. */
  cacheMaxAgeMs?: number;
}

export interface VerifiedUser {
  sub: string;
  email: string;
  name?: string;
  picture?: string;
}

export interface VerifierStats {
  /** HTTP requests made to the JWKS URI (successful or not). */
  jwksFetches: number;
  verified: number;
  denied: number;
}

export interface TokenVerifier {
  /** Accepts "Bearer <jwt>" or a bare JWT; throws UnauthorizedError on any failure. */
  verify(bearerOrToken: string | undefined | null): Promise<VerifiedUser>;
  stats(): VerifierStats;
}

/** A JWT larger than this is refused before any parsing (Google's are ~1 KB). */
export const MAX_TOKEN_CHARS = 8 * 1024;

/** The token of an Authorization header value, or a bare token as given. */
export function parseBearer(value: string | undefined | null): string {
  if (typeof value !== "string" || !value.trim()) throw new UnauthorizedError("missing_token");
  const trimmed = value.trim();
  const parts = trimmed.split(/\s+/);
  let token: string;
  if (parts.length === 1) token = parts[0];
  else if (parts.length === 2 && parts[0].toLowerCase() === "bearer") token = parts[1];
  else if (parts.length === 2) throw new UnauthorizedError("wrong_scheme");
  else throw new UnauthorizedError("malformed_header");
  if (token.length > MAX_TOKEN_CHARS) throw new UnauthorizedError("token_too_large");
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) throw new UnauthorizedError("malformed_token");
  return token;
}

export function createTokenVerifier(config: TokenVerifierConfig): TokenVerifier {
  const issuers = [...config.issuers].filter(Boolean);
  const audiences = [...config.audiences].filter(Boolean);
  if (!issuers.length) throw new Error("createTokenVerifier: at least one issuer is required");
  if (!audiences.length) throw new Error("createTokenVerifier: at least one audience is required");
  const skew = config.clockSkewSeconds ?? CLOCK_SKEW_SECONDS;
  const maxAge = config.maxTokenAgeSeconds ?? MAX_TOKEN_AGE_SECONDS;
  const timeoutMs = config.jwksTimeoutMs ?? JWKS_TIMEOUT_MS;
  const url = new URL(config.jwksUri);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new Error("createTokenVerifier: jwksUri must be https (http only for 127.0.0.1/localhost)");
  }

  const counters: VerifierStats = { jwksFetches: 0, verified: 0, denied: 0 };
  const fetcher = jwksAgent(url.protocol, () => counters.jwksFetches++);
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: timeoutMs,
    cooldownDuration: config.cooldownMs ?? JWKS_COOLDOWN_MS,
    cacheMaxAge: config.cacheMaxAgeMs ?? JWKS_CACHE_MAX_AGE_MS,
    agent: fetcher.agent,
  });
  // jose's timeout covers the wait for response headers only; this deadline also
  // covers a body that trickles in, so a key lookup never outlives timeoutMs, and
  // a fetch that overran it is torn down so the next lookup starts a fresh one.
  const getKey: JWTVerifyGetKey = (header, token) => {
    // Google always names its key; a token without `kid` is not one of its tokens.
    if (typeof header.kid !== "string" || !header.kid) throw new UnauthorizedError("missing_kid");
    return withDeadline(remote(header, token), timeoutMs, fetcher.abortAll);
  };

  async function verifyToken(token: string): Promise<VerifiedUser> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: ["RS256"],
        issuer: issuers,
        audience: audiences,
        clockTolerance: skew,
        maxTokenAge: maxAge,
        requiredClaims: ["iss", "aud", "sub", "exp", "iat"],
      }));
    } catch (err) {
      throw err instanceof UnauthorizedError ? err : new UnauthorizedError(reasonFor(err));
    }
    const now = Math.floor(new Date().getTime() / 1000); // jose's clock for claims
    // jose checks these too; checked again here because they are the promise.
    if (typeof payload.iat !== "number" || payload.iat > now + skew) throw new UnauthorizedError("iat_in_future");
    if (now - payload.iat > maxAge + skew) throw new UnauthorizedError("token_too_old");
    if (typeof payload.exp !== "number" || payload.exp + skew < now) throw new UnauthorizedError("expired");
    if (typeof payload.sub !== "string" || !payload.sub) throw new UnauthorizedError("missing_sub");
    const email = payload.email;
    if (typeof email !== "string" || !email) throw new UnauthorizedError("missing_email");
    if (payload.email_verified !== true && payload.email_verified !== "true") {
      throw new UnauthorizedError("email_not_verified");
    }
    const user: VerifiedUser = { sub: payload.sub, email };
    if (typeof payload.name === "string" && payload.name) user.name = payload.name;
    if (typeof payload.picture === "string" && payload.picture) user.picture = payload.picture;
    return user;
  }

  return {
    async verify(bearerOrToken) {
      try {
        const user = await verifyToken(parseBearer(bearerOrToken));
        counters.verified++;
        return user;
      } catch (err) {
        counters.denied++;
        throw err instanceof UnauthorizedError ? err : new UnauthorizedError("internal");
      }
    },
    stats: () => ({ ...counters }),
  };
}

/** Reads AUTH_JWKS_URI, AUTH_ISSUERS and AUTH_AUDIENCES (comma-separated); throws if one is missing. */
export function verifierConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifierConfig {
  const need = (name: string) => {
    const v = env[name]?.trim();
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  const list = (name: string) => {
    const items = need(name)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!items.length) throw new Error(`${name} is empty`);
    return items;
  };
  return { jwksUri: need("AUTH_JWKS_URI"), issuers: list("AUTH_ISSUERS"), audiences: list("AUTH_AUDIENCES") };
}

// ---------------------------------------------------------------------------
// API Gateway TOKEN authorizer

/**
 * The routes a verified caller may invoke. API Gateway caches the decision for
 * 300 s per token across routes, so the policy names every authorized route, not
 * only the one being called (and never `*`). /auth/sync has no authorizer.
 */
export { AUTHORIZED_ROUTES };

export interface AuthorizerContext {
  userId: string;
  email: string;
}

const METHOD_ARN = /^(arn:aws[a-z-]*:execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+)\/([A-Za-z0-9_-]+)\/[A-Z*]+\/.*$/;

/** The policy for a verified user, scoped to the API and stage of `methodArn`. */
export function allowPolicy(
  user: VerifiedUser,
  methodArn: string,
  routes: ReadonlyArray<{ method: string; path: string }> = AUTHORIZED_ROUTES,
): APIGatewayAuthorizerResult & { context: AuthorizerContext } {
  const m = METHOD_ARN.exec(methodArn ?? "");
  if (!m) throw new UnauthorizedError("bad_method_arn");
  const [, api, stage] = m;
  return {
    principalId: user.sub,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [
        {
          Action: "execute-api:Invoke",
          Effect: "Allow",
          // A path parameter matches any value (`users/*/export`): whose data a route
          // may touch is the handler's check (`{userId}` must be the token's `sub`).
          Resource: routes.map((r) => `${api}/${stage}/${r.method}/${arnPath(r.path)}`),
        },
      ],
    },
    context: { userId: user.sub, email: user.email },
  };
}

/** Verifies the header and returns the policy; throws UnauthorizedError. */
export async function authorize(
  authorizationHeader: string | undefined | null,
  methodArn: string,
  verifier: TokenVerifier,
): Promise<APIGatewayAuthorizerResult & { context: AuthorizerContext }> {
  const user = await verifier.verify(authorizationHeader);
  return allowPolicy(user, methodArn);
}

/**
 * A TOKEN authorizer handler around `verifier`. Denials log one line with the
 * reason and throw Error("Unauthorized"), which API Gateway answers with 401.
 */
export function createAuthorizer(verifier: TokenVerifier) {
  return async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
    const started = Date.now();
    try {
      const result = await authorize(event?.authorizationToken, event?.methodArn, verifier);
      log.info("authorizer", { outcome: "allow", durationMs: Date.now() - started });
      return result;
    } catch (err) {
      const reason = err instanceof UnauthorizedError ? err.reason : "internal";
      log.warn("authorizer", { outcome: "deny", reason, durationMs: Date.now() - started });
      throw new Error("Unauthorized");
    }
  };
}

// ---------------------------------------------------------------------------

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

interface JwksAgent {
  agent: http.Agent;
  /** Tears down every JWKS request in flight (called when a lookup's deadline passes). */
  abortAll(): void;
}

/**
 * The agent jose's requests go through: it counts them (stats().jwksFetches) and
 * can abort them. jose's own timeout ends at the response headers; without the
 * abort, a body that trickles in would hold jose's single pending fetch, and every
 * lookup waiting on it, until the server let go.
 */
function jwksAgent(protocol: string, onRequest: () => void): JwksAgent {
  const Base = protocol === "https:" ? https.Agent : http.Agent;
  // No keep-alive: fetches are hours apart, and a socket kept across a frozen
  // Lambda container would fail with ECONNRESET on reuse.
  const agent = new Base({ keepAlive: false });
  const inflight = new Set<http.ClientRequest>();
  // addRequest is how http.get hands every request to its agent.
  const a = agent as unknown as { addRequest: (req: http.ClientRequest, ...rest: unknown[]) => unknown };
  const original = a.addRequest.bind(agent);
  a.addRequest = (req, ...rest) => {
    onRequest();
    inflight.add(req);
    req.once("close", () => inflight.delete(req));
    return original(req, ...rest);
  };
  return {
    agent,
    abortAll() {
      for (const req of inflight) req.destroy(Object.assign(new Error("JWKS request timed out"), { code: "ETIMEDOUT" }));
      inflight.clear();
    },
  };
}

function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new joseErrors.JWKSTimeout());
      onTimeout();
    }, ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** A fixed word for the log; jose messages are not passed through. */
function reasonFor(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return err.claim === "iat" ? "token_too_old" : "expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = ["iss", "aud", "sub", "iat", "nbf", "exp"].includes(err.claim) ? err.claim : "other";
    if (err.reason === "missing") return `missing_${claim}`;
    if (claim === "iat" && err.reason === "check_failed") return "iat_in_future";
    return `bad_${claim}`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "alg_not_allowed";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "bad_signature";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "unknown_kid";
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return "ambiguous_kid";
  if (err instanceof joseErrors.JWKSTimeout) return "jwks_timeout";
  if (err instanceof joseErrors.JWKSInvalid) return "jwks_invalid";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return "malformed_token";
  if (err instanceof joseErrors.JOSENotSupported) return "unsupported";
  if (err instanceof joseErrors.JOSEError) return "jwks_unavailable"; // non-200 / unparsable JWKS
  const code = (err as { code?: unknown })?.code;
  if (code === "ETIMEDOUT") return "jwks_timeout";
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return "jwks_unavailable"; // ECONNREFUSED etc.
  return "internal";
}
