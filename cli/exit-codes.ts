// The exit codes of haumana-ops, documented once: --help prints this table and
// every command returns one of these.

export const EXIT = {
  /** Done; for checks: everything matches. */
  OK: 0,
  /** A check failed (drift, a tag not active, an alarm in ALARM), or AWS returned an error. */
  FAILURE: 1,
  /** Bad command line, or a stack file that cannot be read. */
  USAGE: 2,
  /** No AWS credentials, expired credentials, or AccessDenied on an IAM action. */
  CREDENTIALS: 3,
  /** Not yet possible: a cost-allocation tag is not active or not yet seen by billing. */
  PRECONDITION: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const MEANINGS: Record<ExitCode, string> = {
  0: "ok (checks: everything matches)",
  1: "failure: drift, a tag not active, an alarm in ALARM, or an AWS error",
  2: "usage: bad arguments or an unreadable stack file",
  3: "credentials: none found, expired, or AccessDenied (the message names the IAM action)",
  4: "precondition: a cost-allocation tag not yet active or not yet seen by billing",
};

export function exitCodesHelp(): string {
  const lines = Object.entries(MEANINGS).map(([code, text]) => `  ${code}  ${text}`);
  return `Exit codes:\n${lines.join("\n")}`;
}
