// Google ID-token rules, shared by the authorizer, auth-sync and the infra that
// configures them. Source: Google's "Authenticate with a backend server" guide.

export const GOOGLE_ISSUERS = ["accounts.google.com", "https://accounts.google.com"] as const;
export const GOOGLE_JWKS_URI = "https://www.googleapis.com/oauth2/v3/certs";

/** Clock skew tolerated on exp / iat / nbf, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;
/** Google ID tokens live one hour; anything claiming to be older is refused. */
export const MAX_TOKEN_AGE_SECONDS = 60 * 60 + CLOCK_SKEW_SECONDS;
/** How long fetched signing keys are trusted before a refetch (Google rotates daily). */
export const JWKS_CACHE_MAX_AGE_MS = 6 * 60 * 60 * 1000;
/** Minimum time between two JWKS refetches caused by an unknown `kid`. */
export const JWKS_COOLDOWN_MS = 30 * 1000;
/** A JWKS fetch that takes longer than this fails, and the request is denied. */
export const JWKS_TIMEOUT_MS = 3000;

/** Identity pool login provider key for Google. */
export const GOOGLE_LOGIN_PROVIDER = "accounts.google.com";

/** Cognito username for a Google account. */
export function cognitoUsername(sub: string): string {
  return `google_${sub}`;
}
