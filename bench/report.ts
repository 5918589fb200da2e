// The bench's output: figures as entries (ours, baseline, ratio), the table on
// stdout, and PASS/FAIL per target.
import type { Prices } from "./cost";

export interface Entry {
  metric: string;
  /** Stored pieces, or null for figures that do not depend on it. */
  n: number | null;
  ours: number | null;
  baseline: number | null;
  unit: string;
  /** Which way is better; the ratio is "times better": baseline/ours for lower, ours/baseline for higher. */
  better: "lower" | "higher" | "none";
  /** Runs behind a median (ours, baseline). */
  runs?: [number, number];
  note?: string;
}

export interface Target {
  name: string;
  pass: boolean;
  detail: string;
}

export interface Results {
  entries: Entry[];
  targets: Target[];
  seconds: number;
}

export function ratioOf(e: Entry): number | null {
  if (e.ours === null || e.baseline === null || e.better === "none") return null;
  if (e.better === "higher") return e.baseline === 0 ? null : e.ours / e.baseline;
  return e.ours === 0 ? null : e.baseline / e.ours;
}

function fmt(x: number | null, unit: string): string {
  if (x === null || Number.isNaN(x)) return "-";
  if (unit === "USD") return x >= 0.01 ? `$${x.toFixed(4)}` : `$${x.toPrecision(3)}`;
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  return x.toFixed(2);
}

function fmtRatio(r: number | null): string {
  if (r === null) return "-";
  if (r >= 100) return `${Math.round(r).toLocaleString("en-US")}x`;
  return `${r.toFixed(2)}x`;
}

export function printTable(r: Results, prices: Prices) {
  const rows = r.entries.map((e) => [
    e.metric,
    e.n === null ? "" : e.n.toLocaleString("en-US"),
    fmt(e.ours, e.unit),
    fmt(e.baseline, e.unit),
    fmtRatio(ratioOf(e)) + (e.runs ? ` (median of ${e.runs[1] ? `${e.runs[0]}/${e.runs[1]}` : e.runs[0]})` : ""),
    e.unit,
  ]);
  const head = ["figure", "n", "ours", "baseline", "ratio", "unit"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const out: string[] = [];
  out.push("Haumana sync bench: ours vs a baseline that behaves like the old backend (bench/baseline.ts), DynamoDB Local");
  out.push("ratio = how many times better ours is: baseline/ours for costs, sizes and times; ours/baseline for rates and pieces received");
  out.push("");
  out.push(line(head));
  out.push(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) out.push(line(row));
  out.push("");
  out.push("Notes:");
  const seen = new Set<string>();
  r.entries.forEach((e) => {
    if (!e.note || seen.has(`${e.metric}|${e.note}`)) return;
    seen.add(`${e.metric}|${e.note}`);
    out.push(`  - ${e.metric.trim()}: ${e.note}`);
  });
  out.push(`  - prices (USD, us-west-2 on-demand): ${Object.entries(prices).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  out.push("");
  out.push("Targets:");
  for (const t of r.targets) out.push(`  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
  out.push("");
  out.push(`${r.targets.every((t) => t.pass) ? "all targets met" : "TARGETS FAILED"}; run took ${r.seconds.toFixed(0)} s`);
  process.stdout.write(out.join("\n") + "\n");
}
