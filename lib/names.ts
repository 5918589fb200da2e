// Physical resource names, derived from a stack's name prefix so that stacks can
// never share (and so never read or write) each other's data.

export interface ResourceNames {
  userPool: string;
  identityPool: string;
  /** The identity pool's authenticated role (it grants nothing). */
  identityRole: string;
  api: string;
  piecesTable: string;
  sessionsTable: string;
  fn: (name: FunctionName) => string;
  role: (name: FunctionName) => string;
  logGroup: (name: FunctionName) => string;
}

export const FUNCTION_NAMES = ["auth-sync", "sync-pieces", "sync-sessions", "authorizer"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export function resourceNames(prefix: string): ResourceNames {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(prefix)) {
    throw new Error(`namePrefix must be lower-case letters, digits and dashes: got "${prefix}"`);
  }
  const underscore = prefix.replace(/-/g, "_");
  return {
    userPool: `${prefix}-users`,
    // Identity pool names allow only [\w ]+.
    identityPool: `${underscore}_identity`,
    identityRole: `${prefix}-identity-authenticated-role`,
    api: `${prefix}-api`,
    piecesTable: `${prefix}-pieces`,
    sessionsTable: `${prefix}-sessions`,
    fn: (name) => `${prefix}-${name}`,
    role: (name) => `${prefix}-${name}-role`,
    logGroup: (name) => `/aws/lambda/${prefix}-${name}`,
  };
}
