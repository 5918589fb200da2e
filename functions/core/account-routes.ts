// The account routes under /users/{userId} (behind the Google-token authorizer), as
// functions of what they use, so the Lambda handlers, the local server and the tests
// wire the same code:
//
// - GET /users/{userId}/export: the export document (export.ts), stored and answered
//   with a 302 to a short-lived link to it (export-link.ts).
// - DELETE /users/{userId}: the account's data and its Cognito user (account-deletion.ts); 204.
// - GET /users/{userId}/consent-status: 501. The KWS parental-consent flow is not
//   part of this backend (the app reaches this route only without a token, which
//   API Gateway answers 401 before any handler runs).
//
// Each acts only when `{userId}` is the token's `sub`; any other path is a 403 given
// before anything is read, so it never tells whether that user exists.
import type { APIGatewayProxyResult } from "aws-lambda";
import { ACCOUNT_RETRY_BUDGET_MS } from "../../lib/limits";
import { routeKey, ROUTES } from "../../lib/routes";
import { deleteAccount, UserRegistry } from "./account-deletion";
import { ForbiddenError, NotImplementedError } from "./errors";
import { buildExport, ExportSource } from "./export";
import { ExportLinks } from "./export-link";
import { handleRoute, ProxyEvent } from "./http";
import type { Store } from "./store";

export type ProxyHandler = (event: ProxyEvent) => Promise<APIGatewayProxyResult>;

const EXPORT = "GET /users/{userId}/export";
const DELETE = "DELETE /users/{userId}";
const CONSENT = "GET /users/{userId}/consent-status";

/** The request is about the caller's own account, or a 403 that says nothing about anyone else. */
function ownAccount(event: ProxyEvent, userId: string): void {
  if (event.pathParameters?.userId !== userId) {
    throw new ForbiddenError("You can only export or delete your own account's data.");
  }
}

export function exportRoute(src: ExportSource, links: ExportLinks): ProxyHandler {
  return (event) =>
    handleRoute(
      EXPORT,
      event,
      async (_body, { userId }) => {
        ownAccount(event, userId);
        const built = await buildExport(src, userId);
        const location = await links.publish(built);
        // The link is a credential for a few minutes: it is answered, never logged.
        return {
          status: 302,
          headers: { Location: location },
          stats: { pieces: built.pieces, sessions: built.sessions, exportBytes: Buffer.byteLength(built.json) },
        };
      },
      { body: false },
    );
}

export function deleteUserRoute(store: Store, registry?: UserRegistry): ProxyHandler {
  return (event) =>
    handleRoute(
      DELETE,
      event,
      async (_body, { userId }) => {
        ownAccount(event, userId);
        const r = await deleteAccount(store.withDeadline(ACCOUNT_RETRY_BUDGET_MS), registry, userId);
        return { status: 204, stats: { pieces: r.pieces, sessions: r.sessions, cognitoUser: r.cognitoUser } };
      },
      { body: false },
    );
}

export function consentStatusRoute(): ProxyHandler {
  return (event) =>
    handleRoute(
      CONSENT,
      event,
      async () => {
        throw new NotImplementedError("Parental consent is not available on this server.");
      },
      { body: false },
    );
}

/** One Lambda serving several routes: picks the handler by API Gateway's `httpMethod` and `resource`. */
export function byRoute(handlers: Record<string, ProxyHandler>): ProxyHandler {
  for (const key of Object.keys(handlers)) {
    if (!ROUTES.some((r) => routeKey(r) === key)) throw new Error(`byRoute: ${key} is not in the route table`);
  }
  return async (event) => {
    const handler = handlers[`${event.httpMethod} ${event.resource}`];
    if (handler) return handler(event);
    return handleRoute(`${event.httpMethod} ${event.resource}`, event, async () => {
      throw new NotImplementedError("This route is not served here.");
    }, { body: false });
  };
}

export const ACCOUNT_ROUTE_KEYS = { export: EXPORT, delete: DELETE, consentStatus: CONSENT } as const;
