// `dev token`: a bearer token that only the local server accepts (local/dev-auth.ts
// owns the key, issuer and audience). Loaded lazily: jose is not needed elsewhere.
import { UsageError } from "../errors";
import { EXIT, ExitCode } from "../exit-codes";

export interface DevTokenOptions {
  sub: string;
  email?: string;
}

export type IssueDevToken = (claims: { sub: string; email?: string }) => Promise<string>;

export async function devToken(opts: DevTokenOptions, issue?: IssueDevToken): Promise<string> {
  const sub = opts.sub?.trim();
  if (!sub) throw new UsageError("--sub must not be empty");
  if (opts.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(opts.email)) throw new UsageError(`not an email address: ${opts.email}`);
  const issueToken = issue ?? (await import("../../local/dev-auth")).issueDevToken;
  return issueToken({ sub, ...(opts.email ? { email: opts.email } : {}) });
}

export interface DevTokenResult {
  token: string;
  sub: string;
  email?: string;
  issuer: string;
  audience: string;
  expiresAt: string;
  exitCode: ExitCode;
}

/** The token with what it is good for, for --json. */
export async function devTokenResult(opts: DevTokenOptions): Promise<DevTokenResult> {
  const token = await devToken(opts);
  const { LOCAL_ISSUER, LOCAL_AUDIENCE } = await import("../../local/dev-auth");
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as { exp: number };
  return {
    token,
    sub: opts.sub.trim(),
    ...(opts.email ? { email: opts.email } : {}),
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    exitCode: EXIT.OK,
  };
}

/** Text output: the token alone, so `$(haumana-ops dev token ...)` works. */
export function renderDevToken(r: DevTokenResult): string {
  return r.token;
}
