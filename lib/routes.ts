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
  /**
   * The route's own request limit at the stage (API Gateway throttles each method
   * separately); absent: an equal share of what the stage's limit leaves (infra/api.ts).
   */
  throttle?: RouteThrottle;
}

export interface RouteThrottle {
  burst: number;
  ratePerSecond: number;
}

/**
 * Routes a user calls a few times in the life of an account (export, deletion, the
 * consent check that always answers 401): one at a time and one every 5 s across all
 * users, so they leave the sync routes most of the stage's limit. A request over the
 * limit gets API Gateway's 429, which the app shows as an error; trying again works.
 */
export const RARE_ROUTE_THROTTLE: RouteThrottle = { burst: 1, ratePerSecond: 0.2 };

export const ROUTES: readonly Route[] = [
  { path: "pieces", method: "POST", fn: "sync-pieces", authorized: true },
  { path: "sessions", method: "POST", fn: "sync-sessions", authorized: true },
  { path: "auth/sync", method: "POST", fn: "auth-sync", authorized: false },
  { path: "users/{userId}/export", method: "GET", fn: "user-export", authorized: true, throttle: RARE_ROUTE_THROTTLE },
  { path: "users/{userId}", method: "DELETE", fn: "user-delete", authorized: true, throttle: RARE_ROUTE_THROTTLE },
  // The KWS parental-consent flow is not part of this backend: behind the authorizer
  // as on the live API (the app sends no token, so API Gateway answers 401), and with
  // a token the handler answers 501. It needs no grant, so it shares user-export's
  // function rather than adding a function (and its alarms) of its own.
  { path: "users/{userId}/consent-status", method: "GET", fn: "user-export", authorized: true, throttle: RARE_ROUTE_THROTTLE },
];

export const AUTHORIZED_ROUTES: readonly Route[] = ROUTES.filter((r) => r.authorized);

/**
 * The calls the shipped app makes, with whether it sends the bearer token (the
 * contract's table), and whether the live API guards the route with the token
 * authorizer although the app sends none (so the live route always answers 401, and
 * so must ours: the app's behaviour is built on that answer).
 */
export const APP_ROUTES: readonly { method: HttpMethod; path: string; sendsToken: boolean; guardedLive?: boolean }[] = [
  { method: "POST", path: "auth/sync", sendsToken: false },
  { method: "POST", path: "pieces", sendsToken: true },
  { method: "POST", path: "sessions", sendsToken: true },
  { method: "GET", path: "users/{userId}/export", sendsToken: true },
  { method: "DELETE", path: "users/{userId}", sendsToken: true },
  { method: "GET", path: "users/{userId}/consent-status", sendsToken: false, guardedLive: true },
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

/**
 * The route serving `method` and a request path ("/users/123/export"), with its path
 * parameters, as API Gateway matches it: a parameter is one whole, non-empty segment.
 */
export function matchRoute(
  method: string,
  requestPath: string,
  routes: readonly Route[] = ROUTES,
): { route: Route; pathParameters: Record<string, string> } | undefined {
  const segments = requestPath.replace(/^\//, "").split("/");
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split("/");
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((seg, i) => {
      const m = PARAM.exec(seg);
      if (!m) return seg === segments[i];
      if (!segments[i]) return false;
      try {
        params[m[1]] = decodeURIComponent(segments[i]);
      } catch {
        return false;
      }
      return true;
    });
    if (ok) return { route, pathParameters: params };
  }
  return undefined;
}

/** App calls that `routes` does not serve. */
export function unservedAppRoutes(routes: readonly Route[] = ROUTES) {
  return APP_ROUTES.filter((a) => !routes.some((r) => routeKey(r) === routeKey(a)));
}
