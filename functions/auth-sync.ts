// Lambda entry: POST /auth/sync (no authorizer in front). Configuration is read
// once at load and a missing variable fails the cold start; the verifier (and its
// JWKS cache) and the Cognito client live as long as the container. The request
// handling is in functions/core/users.ts so the local server and tests share it.
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { createAuthSyncHandler } from "./core/users";
import { createTokenVerifier, verifierConfigFromEnv } from "./core/verify";

const userPoolId = process.env.USER_POOL_ID?.trim();
if (!userPoolId) throw new Error("USER_POOL_ID is not set");

export const handler = createAuthSyncHandler({
  verifier: createTokenVerifier(verifierConfigFromEnv(process.env)),
  registry: { cognito: new CognitoIdentityProviderClient({ maxAttempts: 3 }), userPoolId },
});
