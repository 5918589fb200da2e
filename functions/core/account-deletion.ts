// Deleting an account (DELETE /users/{userId}, `haumana-ops user delete`): the data,
// through deleteAccountData (account.ts: retry-safe, leaves the deletion record),
// then the Cognito user google_<sub>. In that order: a failure at any point leaves a
// state that running the whole again completes, and an absent Cognito user (never
// created, or removed by an earlier attempt) is not an error.
import { AdminDeleteUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { cognitoUsername } from "../../lib/google";
import { DeletedCounts, deleteAccountData } from "./account";
import { UpstreamError } from "./errors";
import type { Store } from "./store";

/** The Cognito user pool; absent where there is none (the local server without moto). */
export interface UserRegistry {
  cognito: { send(command: any): Promise<any> };
  userPoolId: string;
}

export interface AccountDeletion extends DeletedCounts {
  /** "absent": there was no Cognito user (already deleted, or never signed in); "no-registry": no pool to look in. */
  cognitoUser: "deleted" | "absent" | "no-registry";
}

/**
 * Cognito failed after the data was deleted (502): running the deletion again
 * completes it. `cause` is Cognito's error, for the CLI's message and the log's name.
 */
export class RegistryDeletionError extends UpstreamError {
  readonly causeName: string;
  constructor(readonly cause: unknown) {
    super("Your data was deleted, but the account could not be removed completely right now; please try again.");
    const name = (cause as Error)?.name;
    this.causeName = typeof name === "string" && /^[A-Za-z0-9_.]{1,64}$/.test(name) ? name : "unknown";
  }
}

/** Removes google_<sub> from the pool; "absent" when it is not there. */
export async function deleteCognitoUser(registry: UserRegistry, sub: string): Promise<"deleted" | "absent"> {
  try {
    await registry.cognito.send(new AdminDeleteUserCommand({ UserPoolId: registry.userPoolId, Username: cognitoUsername(sub) }));
    return "deleted";
  } catch (err) {
    if ((err as Error)?.name === "UserNotFoundException") return "absent";
    throw new RegistryDeletionError(err);
  }
}

export async function deleteAccount(store: Store, registry: UserRegistry | undefined, userId: string): Promise<AccountDeletion> {
  const data = await deleteAccountData(store, userId);
  const cognitoUser = registry ? await deleteCognitoUser(registry, userId) : "no-registry";
  return { ...data, cognitoUser };
}
