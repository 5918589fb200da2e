// CloudWatch Logs' JSON filter patterns of the one form lib/monitoring.ts uses,
// `{ $.field <op> <number> }`, evaluated as CloudWatch documents it: the line must
// be JSON and the field a number that compares so. For tests that check a metric
// filter against the log lines the handlers really write.
export function matchesFilterPattern(pattern: string, line: string): boolean {
  const m = /^\{ \$\.([A-Za-z_]+) (=|>|<|>=|<=|!=) (-?\d+(?:\.\d+)?) \}$/.exec(pattern);
  if (!m) throw new Error(`pattern form not supported here: ${pattern}`);
  let value: unknown;
  try {
    value = JSON.parse(line)[m[1]];
  } catch {
    return false;
  }
  if (typeof value !== "number") return false;
  const n = Number(m[3]);
  return { "=": value === n, ">": value > n, "<": value < n, ">=": value >= n, "<=": value <= n, "!=": value !== n }[m[2]]!;
}

