// `dev token`: a bearer token that only the local server accepts (local/dev-auth.ts
// owns the key, issuer and audience). Loaded lazily: jose is not needed elsewhere.
import { UsageError } from "../errors";

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
