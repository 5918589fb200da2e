// Physical resource names: the one definition the Pulumi program creates resources
// with and `haumana-ops preflight` checks before it does. Names derive from a
// stack's name prefix, so stacks never share (and so never read or write) each
// other's data, and can never equal a name of the live CDK deployment this program
// replaces (LIVE_NAMES, from ../shared/ios-sync-contract.md): resourceNames()
// refuses a prefix that would produce one.

export interface ResourceNames {
  prefix: string;
  userPool: string;
  identityPool: string;
  /** The identity pool's authenticated role (it grants nothing). */
  identityRole: string;
  api: string;
  piecesTable: string;
  sessionsTable: string;
  /**
   * Prefix of the account-data export bucket's name; S3 adds a random suffix (bucket
   * names are global across every AWS account, so a fixed one could be taken by anyone).
   */
  exportBucketPrefix: string;
  fn: (name: FunctionName) => string;
  role: (name: FunctionName) => string;
  logGroup: (name: FunctionName) => string;
}

export const FUNCTION_NAMES = ["auth-sync", "sync-pieces", "sync-sessions", "authorizer", "user-export", "user-delete"] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Kinds of name the program creates that live outside the stack's own resources (account- or region-wide). */
export type NameKind =
  | "dynamodb-table"
  | "lambda-function"
  | "log-group"
  | "iam-role"
  | "user-pool"
  | "identity-pool"
  | "rest-api"
  | "api-domain"
  | "sns-topic"
  | "cloudwatch-alarm"
  | "cloudwatch-dashboard";

export interface PhysicalName {
  kind: NameKind;
  name: string;
  /**
   * true: AWS refuses a second resource with this name (creating it fails part-way
   * through `pulumi up`). false: AWS allows duplicates, but look-ups by name (the
   * console, the CLI, scripts) then find two and may act on the wrong one.
   */
  unique: boolean;
}

export interface NameKindInfo {
  label: string;
  unique: boolean;
  /** The Pulumi resource type that carries the name, and the input it is in. */
  pulumiType: string;
  nameInput: string;
}

export const NAME_KINDS: Record<NameKind, NameKindInfo> = {
  "dynamodb-table": { label: "DynamoDB table", unique: true, pulumiType: "aws:dynamodb/table:Table", nameInput: "name" },
  "lambda-function": { label: "Lambda function", unique: true, pulumiType: "aws:lambda/function:Function", nameInput: "name" },
  "log-group": { label: "CloudWatch log group", unique: true, pulumiType: "aws:cloudwatch/logGroup:LogGroup", nameInput: "name" },
  "iam-role": { label: "IAM role", unique: true, pulumiType: "aws:iam/role:Role", nameInput: "name" },
  "user-pool": { label: "Cognito user pool", unique: false, pulumiType: "aws:cognito/userPool:UserPool", nameInput: "name" },
  "identity-pool": {
    label: "Cognito identity pool",
    unique: false,
    pulumiType: "aws:cognito/identityPool:IdentityPool",
    nameInput: "identityPoolName",
  },
  "rest-api": { label: "API Gateway REST API", unique: false, pulumiType: "aws:apigateway/restApi:RestApi", nameInput: "name" },
  "api-domain": {
    label: "API Gateway custom domain",
    unique: true,
    pulumiType: "aws:apigateway/domainName:DomainName",
    nameInput: "domainName",
  },
  "sns-topic": { label: "SNS topic", unique: true, pulumiType: "aws:sns/topic:Topic", nameInput: "name" },
  "cloudwatch-alarm": { label: "CloudWatch alarm", unique: true, pulumiType: "aws:cloudwatch/metricAlarm:MetricAlarm", nameInput: "name" },
  "cloudwatch-dashboard": {
    label: "CloudWatch dashboard",
    unique: true,
    pulumiType: "aws:cloudwatch/dashboard:Dashboard",
    nameInput: "dashboardName",
  },
};

const LIVE_FUNCTIONS = [
  "haumana-sync-pieces",
  "haumana-sync-sessions",
  "haumana-auth-sync",
  "haumana-export-user-data",
  "haumana-check-consent-status",
  "haumana-kws-webhook",
  "haumana-google-token-authorizer",
];

/** The live CDK stack `HaumanaStack`: names this program must never create (the contract's last section). */
export const LIVE_NAMES: readonly PhysicalName[] = [
  ...["haumana-pieces", "haumana-sessions", "haumana-users"].map((name) => physical("dynamodb-table", name)),
  ...LIVE_FUNCTIONS.map((name) => physical("lambda-function", name)),
  ...LIVE_FUNCTIONS.map((name) => physical("log-group", `/aws/lambda/${name}`)),
  physical("rest-api", "haumana-api"),
  physical("user-pool", "haumana-users-v2"),
  physical("user-pool", "haumana-users"),
];

/** The live REST API every installed app calls (…/prod); the prod stack adopts it instead of creating one. */
export const LIVE_API = { id: "vageu42qbg", stage: "prod", region: "us-west-2" } as const;

export function physical(kind: NameKind, name: string): PhysicalName {
  return { kind, name, unique: NAME_KINDS[kind].unique };
}

export class NameCollisionError extends Error {
  readonly name = "NameCollisionError";
  readonly code = "name_collision";
  constructor(
    message: string,
    readonly collisions: PhysicalName[],
  ) {
    super(message);
  }
}

/** Names compare case-insensitively: look-ups in the console and CLI do. */
const sameName = (a: PhysicalName, b: PhysicalName) => a.kind === b.kind && a.name.toLowerCase() === b.name.toLowerCase();

/** Which of `names` equal a live CDK name. */
export function liveCollisions(names: readonly PhysicalName[]): PhysicalName[] {
  return names.filter((n) => LIVE_NAMES.some((l) => sameName(n, l)));
}

/** The stack's names, whether or not they collide with live ones (preflight shows where those live). */
export function deriveNames(prefix: string): ResourceNames {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(prefix)) {
    throw new Error(`namePrefix must be lower-case letters, digits and dashes: got "${prefix}"`);
  }
  const underscore = prefix.replace(/-/g, "_");
  return {
    prefix,
    userPool: `${prefix}-users`,
    // Identity pool names allow only [\w ]+.
    identityPool: `${underscore}_identity`,
    identityRole: `${prefix}-identity-authenticated-role`,
    api: `${prefix}-api`,
    piecesTable: `${prefix}-pieces`,
    sessionsTable: `${prefix}-sessions`,
    exportBucketPrefix: `${prefix}-exports-`,
    fn: (name) => `${prefix}-${name}`,
    role: (name) => `${prefix}-${name}-role`,
    logGroup: (name) => `/aws/lambda/${prefix}-${name}`,
  };
}

/** The stack's names; refuses a prefix that would reuse a name of the live CDK deployment. */
export function resourceNames(prefix: string): ResourceNames {
  const names = deriveNames(prefix);
  const clash = liveCollisions(physicalNames(names));
  if (clash.length > 0) {
    throw new NameCollisionError(
      `namePrefix "${prefix}" would reuse names of the live CDK deployment: ${clash.map((c) => c.name).join(", ")}. Pick another prefix (prod uses "haumana-prod").`,
      clash,
    );
  }
  return names;
}

export interface PhysicalNameOptions {
  /** `haumana:domainName`, when the stack has a custom domain. */
  domainName?: string;
  /** `haumana:adoptRestApiId`: the REST API is adopted by id, not created under a new name. */
  adoptRestApiId?: string;
}

/**
 * The names of the program's data and API resources that AWS keys outside the
 * stack; lib/stack-names.ts adds the ops resources' to make the whole list. An
 * adopted REST API is renamed to `names.api`, so its name is listed too.
 */
export function physicalNames(names: ResourceNames, opts: PhysicalNameOptions = {}): PhysicalName[] {
  return [
    physical("dynamodb-table", names.piecesTable),
    physical("dynamodb-table", names.sessionsTable),
    ...FUNCTION_NAMES.map((fn) => physical("lambda-function", names.fn(fn))),
    ...FUNCTION_NAMES.map((fn) => physical("log-group", names.logGroup(fn))),
    ...FUNCTION_NAMES.map((fn) => physical("iam-role", names.role(fn))),
    physical("iam-role", names.identityRole),
    physical("user-pool", names.userPool),
    physical("identity-pool", names.identityPool),
    physical("rest-api", names.api),
    ...(opts.domainName ? [physical("api-domain", opts.domainName)] : []),
  ];
}
