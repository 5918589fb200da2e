// The API's routes, defined once: infra builds the whole API Gateway definition from
// them (infra/openapi.ts), the authorizer allows exactly the authorized ones, and
// the local server serves them. APP_ROUTES is what the shipped iOS app calls
// (../shared/ios-sync-contract.md): at the live URL, each must be in ROUTES.
import type { FunctionName } from "./names";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface Route {
  /** Path without the leading slash; `{name}` marks a path parameter (`users/{userId}/export`). */
  path: string;
  method: HttpMethod;
  fn: Exclude<FunctionName, "authorizer">;
  /** Behind the authorizer; /auth/sync verifies its own token. */
  authorized: boolean;
}

export const ROUTES: readonly Route[] = [
  { path: "pieces", method: "POST", fn: "sync-pieces", authorized: true },
  { path: "sessions", method: "POST", fn: "sync-sessions", authorized: true },
  { path: "auth/sync", method: "POST", fn: "auth-sync", authorized: false },
];

export const AUTHORIZED_ROUTES: readonly Route[] = ROUTES.filter((r) => r.authorized);

/** The calls the shipped app makes, with whether it sends the bearer token (the contract's table). */
export const APP_ROUTES: readonly { method: HttpMethod; path: string; sendsToken: boolean }[] = [
  { method: "POST", path: "auth/sync", sendsToken: false },
  { method: "POST", path: "pieces", sendsToken: true },
  { method: "POST", path: "sessions", sendsToken: true },
  { method: "GET", path: "users/{userId}/export", sendsToken: true },
  { method: "DELETE", path: "users/{userId}", sendsToken: true },
  { method: "GET", path: "users/{userId}/consent-status", sendsToken: false },
];

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Names of the path parameters, in order (`users/{userId}/export` → ["userId"]). */
export function pathParameters(path: string): string[] {
  return path.split("/").flatMap((seg) => {
    const m = PARAM.exec(seg);
    return m ? [m[1]] : [];
  });
}

/**
 * The path as it appears in execute-api ARNs (Lambda permissions, authorizer
 * policies): a parameter matches any one value, so it becomes `*`.
 */
export function arnPath(path: string): string {
  return path
    .split("/")
    .map((seg) => (PARAM.test(seg) ? "*" : seg))
    .join("/");
}

export const routeKey = (r: { method: string; path: string }) => `${r.method} /${r.path}`;

/** App calls that `routes` does not serve. */
export function unservedAppRoutes(routes: readonly Route[] = ROUTES) {
  return APP_ROUTES.filter((a) => !routes.some((r) => routeKey(r) === routeKey(a)));
}
