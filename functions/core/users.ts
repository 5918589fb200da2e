// POST /auth/sync: verify a Google ID token (same verifier as the authorizer) and
// create or update the user google_<sub> in the Cognito user pool. The Cognito
// client, pool and verifier are arguments, so Lambda (functions/auth-sync.ts),
// the local server and tests (against moto) run the same code.
//
// The shipped app signs the user out on any answer but 200 (contract, "Routes"),
// and it calls this at every sign-in and cold start. So every valid token gets 200
// and the user as the token describes them, even when the user registry fails or
// (locally, without moto) there is none: the failure is logged and the registry is
// brought up to date at a later sign-in. Only a bad token is 401, and a malformed
// body 400 or 413.
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  AttributeType,
  CognitoIdentityProviderClient,
} from "@aws-sdk/client-cognito-identity-provider";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { z } from "zod";
import { cognitoUsername } from "../../lib/google";
import { HaumanaError, PayloadTooLargeError, UnauthorizedError, UpstreamError, ValidationError } from "./errors";
import { log } from "./log";
import { MAX_TOKEN_CHARS, TokenVerifier, VerifiedUser } from "./verify";

/** A body holding one ID token; anything much larger is not a sign-in. */
export const MAX_AUTH_SYNC_BODY_BYTES = 16 * 1024;

export interface AuthSyncDeps {
  verifier: TokenVerifier;
  /** The user registry; absent when there is none (the local server without moto). */
  registry?: { cognito: CognitoIdentityProviderClient; userPoolId: string };
}

export interface SyncedUser {
  id: string;
  email: string;
  name: string | null;
  picture: string | null;
  username: string;
}

export interface UpsertResult {
  user: SyncedUser;
  created: boolean;
  updated: boolean;
}

const AuthSyncBody = z.object({
  googleIdToken: z.string().min(1).max(MAX_TOKEN_CHARS),
});

/** Creates google_<sub> if absent, else brings email, name and picture up to date. */
export async function upsertCognitoUser(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  user: VerifiedUser,
): Promise<UpsertResult> {
  const username = cognitoUsername(user.sub);
  const existing = await getAttributes(cognito, userPoolId, username);
  if (!existing) {
    const attributes: AttributeType[] = [
      { Name: "email", Value: user.email },
      { Name: "email_verified", Value: "true" },
      ...profileAttributes(user),
    ];
    try {
      await cognito.send(
        new AdminCreateUserCommand({
          UserPoolId: userPoolId,
          Username: username,
          MessageAction: "SUPPRESS",
          UserAttributes: attributes,
        }),
      );
      return { user: synced(user, {}), created: true, updated: false };
    } catch (err) {
      // Two first sign-ins at once: the other one created it; update instead.
      if ((err as Error)?.name !== "UsernameExistsException") throw upstream(err);
    }
  }
  const current = existing ?? (await getAttributes(cognito, userPoolId, username)) ?? {};
  const changes = profileAttributes(user).filter((a) => current[a.Name!] !== a.Value);
  // Google's email for the account changed: the pool's email attribute is mutable
  // (infra/identity.ts), and the new address is verified by Google.
  if (user.email && current.email !== user.email) {
    changes.push({ Name: "email", Value: user.email }, { Name: "email_verified", Value: "true" });
  }
  if (changes.length) {
    try {
      await cognito.send(
        new AdminUpdateUserAttributesCommand({ UserPoolId: userPoolId, Username: username, UserAttributes: changes }),
      );
    } catch (err) {
      throw upstream(err);
    }
  }
  return { user: synced(user, current), created: false, updated: changes.length > 0 };
}

/** The POST /auth/sync proxy handler around `deps`. */
export function createAuthSyncHandler(deps: AuthSyncDeps) {
  return async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const started = Date.now();
    try {
      const token = parseBody(event);
      const user = await deps.verifier.verify(token);
      if (!deps.registry) {
        log.info("auth-sync", { outcome: "no-registry", status: 200, durationMs: Date.now() - started });
        return respond(200, { success: true, user: synced(user, {}) });
      }
      try {
        const result = await upsertCognitoUser(deps.registry.cognito, deps.registry.userPoolId, user);
        log.info("auth-sync", {
          outcome: result.created ? "created" : result.updated ? "updated" : "unchanged",
          status: 200,
          durationMs: Date.now() - started,
        });
        return respond(200, { success: true, user: result.user });
      } catch (err) {
        // The token is good: the user stays signed in; the registry catches up at a later sign-in.
        log.warn("auth-sync", {
          outcome: "registry-failed",
          status: 200,
          cause: err instanceof CognitoError ? err.causeName : errorName(err),
          durationMs: Date.now() - started,
        });
        return respond(200, { success: true, user: synced(user, {}) });
      }
    } catch (err) {
      const e = err instanceof HaumanaError ? err : new UpstreamError("Sign-in failed; try again");
      log.warn("auth-sync", {
        outcome: "error",
        status: e.status,
        code: e.code,
        reason: err instanceof UnauthorizedError ? err.reason : undefined,
        cause: err instanceof HaumanaError ? (err as { causeName?: string }).causeName : errorName(err),
        durationMs: Date.now() - started,
      });
      return respond(e.status, e.toJSON());
    }
  };
}

// ---------------------------------------------------------------------------

function parseBody(event: APIGatewayProxyEvent): string {
  const raw = event?.body ?? "";
  const bytes = event?.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > MAX_AUTH_SYNC_BODY_BYTES) {
    throw new PayloadTooLargeError(`Request body exceeds ${MAX_AUTH_SYNC_BODY_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new ValidationError("invalid_json", "Request body is not valid JSON");
  }
  const parsed = AuthSyncBody.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(
      "invalid_request",
      "Request body must be {\"googleIdToken\": string}",
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message })),
    );
  }
  return parsed.data.googleIdToken;
}

async function getAttributes(
  cognito: CognitoIdentityProviderClient,
  userPoolId: string,
  username: string,
): Promise<Record<string, string> | undefined> {
  try {
    const out = await cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
    return Object.fromEntries((out.UserAttributes ?? []).map((a) => [a.Name ?? "", a.Value ?? ""]));
  } catch (err) {
    if ((err as Error)?.name === "UserNotFoundException") return undefined;
    throw upstream(err);
  }
}

function profileAttributes(user: VerifiedUser): AttributeType[] {
  const out: AttributeType[] = [];
  if (user.name) out.push({ Name: "name", Value: user.name });
  if (user.picture) out.push({ Name: "picture", Value: user.picture });
  return out;
}

function synced(user: VerifiedUser, stored: Record<string, string>): SyncedUser {
  return {
    id: user.sub,
    email: user.email,
    name: user.name ?? stored.name ?? null,
    picture: user.picture ?? stored.picture ?? null,
    username: cognitoUsername(user.sub),
  };
}

class CognitoError extends UpstreamError {
  constructor(readonly causeName: string) {
    super("Sign-in failed; try again");
  }
}

function upstream(err: unknown): UpstreamError {
  return err instanceof UpstreamError ? err : new CognitoError(errorName(err));
}

function errorName(err: unknown): string {
  const name = (err as Error)?.name;
  return typeof name === "string" && /^[A-Za-z0-9_.]{1,64}$/.test(name) ? name : "unknown";
}

function respond(status: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify(body),
  };
}
