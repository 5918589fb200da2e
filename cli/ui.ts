// Terminal output for haumana-ops: results go to stdout, everything else (progress,
// warnings, errors) to stderr. Colour only on a TTY and never with NO_COLOR; the
// spinner only when stderr is a TTY. Kept tiny on purpose (no chalk/ora: ESM-only).

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
}

export function processIO(): IO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

export interface Colours {
  enabled: boolean;
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** https://no-color.org: present and not empty disables colour. */
export function colourAllowed(stream: OutStream, env: NodeJS.ProcessEnv): boolean {
  return !!stream.isTTY && !env.NO_COLOR;
}

export function colours(enabled: boolean): Colours {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export class Ui {
  /** Colours for stdout text. */
  readonly out: Colours;
  /** Colours for stderr text. */
  readonly err: Colours;

  constructor(readonly io: IO) {
    this.out = colours(colourAllowed(io.stdout, io.env));
    this.err = colours(colourAllowed(io.stderr, io.env));
  }

  /** A result line (stdout). */
  print(text: string): void {
    this.io.stdout.write(text.endsWith("\n") ? text : text + "\n");
  }

  json(value: unknown): void {
    this.io.stdout.write(JSON.stringify(value, null, 2) + "\n");
  }

  info(text: string): void {
    this.io.stderr.write(text + "\n");
  }

  warn(text: string): void {
    this.io.stderr.write(`${this.err.yellow("warning:")} ${text}\n`);
  }

  error(text: string): void {
    this.io.stderr.write(`${this.err.red("error:")} ${text}\n`);
  }

  /** Runs `work` with a spinner on stderr when it is a TTY. */
  async spin<T>(label: string, work: () => Promise<T>): Promise<T> {
    if (!this.io.stderr.isTTY) return work();
    let i = 0;
    const draw = () => this.io.stderr.write(`\r${this.err.cyan(FRAMES[i++ % FRAMES.length])} ${label}`);
    draw();
    const timer = setInterval(draw, 80);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      this.io.stderr.write("\r\x1b[K");
    }
  }
}

export function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

const PARTIAL = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A horizontal bar of `width` cells for value/max, in eighths of a cell. */
export function bar(value: number, max: number, width = 30): string {
  if (!(max > 0) || !(value > 0)) return "";
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return "█".repeat(Math.floor(eighths / 8)) + PARTIAL[eighths % 8];
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: string[][], visibleLength: (s: string) => number = stripLength): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i] - visibleLength(c)))).join("  "))
    .join("\n");
}

function stripLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, "").length;
}
