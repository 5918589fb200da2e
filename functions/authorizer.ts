// Lambda entry: API Gateway TOKEN authorizer for POST /pieces and POST /sessions.
// Configuration is read once at load (a missing variable fails the cold start);
// the verifier, and with it the JWKS cache, lives as long as the container.
// The logic is in functions/core/verify.ts so the local server runs the same code.
import { createAuthorizer, createTokenVerifier, verifierConfigFromEnv } from "./core/verify";

const verifier = createTokenVerifier(verifierConfigFromEnv(process.env));

export const handler = createAuthorizer(verifier);
