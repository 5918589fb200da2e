// Lambda handler for DELETE /users/{userId} (behind the Google-token authorizer).
// Configuration is read once at load; a missing variable fails the cold start.
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { deleteUserRoute } from "./core/account-routes";
import { requireEnv, storeFromEnv } from "./core/routes";

export const handler = deleteUserRoute(storeFromEnv(), {
  cognito: new CognitoIdentityProviderClient({ maxAttempts: 3 }),
  userPoolId: requireEnv("USER_POOL_ID"),
});
