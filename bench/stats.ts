// Small statistics for the bench: one measured sync, and medians of repeated runs.
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One measured sync: what DynamoDB charged, what was logged, how long it took, what it sent and answered. */
export interface Measured {
  read: number;
  write: number;
  requests: number;
  logBytes: number;
  ms: number;
  requestBytes: number;
  resultBytes: number;
  /** Ours only: the request was over the 6 MB body limit and ran without the check (bench/ours.ts). */
  overBodyLimit: boolean;
  body: any;
}

/** The median of each figure over repeated runs; the body of the last run. */
export function medianOf(ms: Measured[]): Measured {
  const m = (k: "read" | "write" | "requests" | "logBytes" | "ms" | "requestBytes" | "resultBytes") => median(ms.map((x) => x[k]));
  return {
    read: m("read"),
    write: m("write"),
    requests: m("requests"),
    logBytes: m("logBytes"),
    ms: m("ms"),
    requestBytes: m("requestBytes"),
    resultBytes: m("resultBytes"),
    overBodyLimit: ms.some((x) => x.overBodyLimit),
    body: ms[ms.length - 1].body,
  };
}
