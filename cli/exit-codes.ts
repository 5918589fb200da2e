// The exit codes of haumana-ops, documented once: --help prints this table and
// every command returns one of these.

export const EXIT = {
  /** Done; for checks: everything matches. */
  OK: 0,
  /** A check found drift, an alarm in ALARM or a name already in use, a migration left an item out or different, AWS or the network failed, or a change was declined at the prompt. */
  FAILURE: 1,
  /** Bad command line, a stack file that cannot be read, or a change without --yes and no terminal to ask on. */
  USAGE: 2,
  /** No AWS credentials, expired credentials, or AccessDenied on an IAM action. */
  CREDENTIALS: 3,
  /** Not yet possible: a cost-allocation tag is not active (inactive, or not yet seen by billing), or Cost Explorer is off. */
  PRECONDITION: 4,
  /** Ctrl-C. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const MEANINGS: Record<ExitCode, string> = {
  0: "ok (checks: everything matches)",
  1: "failure: drift, an alarm in ALARM, a name already in use, an item the migration did not copy or that differs, an AWS or network error, or a change declined at the prompt",
  2: "usage: bad arguments, an unreadable stack file, or a change without --yes and no terminal to ask on",
  3: "credentials: none found, expired, or AccessDenied (the message names the IAM action)",
  4: "precondition: a cost-allocation tag not active yet (inactive, or not yet seen by billing), or Cost Explorer not enabled",
  130: "interrupted (Ctrl-C)",
};

export function exitCodesHelp(): string {
  const lines = Object.entries(MEANINGS).map(([code, text]) => `  ${code}  ${text}`);
  return `Exit codes:\n${lines.join("\n")}`;
}

/** The table as Markdown rows, for the README test that keeps both in step. */
export function exitCodesTable(): [number, string][] {
  return Object.entries(MEANINGS).map(([code, text]) => [Number(code), text]);
}
