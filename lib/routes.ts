// The API's routes, defined once: infra builds API Gateway from them, the
// authorizer allows exactly the authorized ones, and the local server serves them.
import type { FunctionName } from "./names";

export interface Route {
  /** Path without the leading slash. */
  path: string;
  method: "POST";
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
