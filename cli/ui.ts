// Terminal output for haumana-ops: results go to stdout, everything else (progress,
// warnings, errors, prompts) to stderr. Colour follows Node's own terminal rules
// (tty.WriteStream#getColorDepth: FORCE_COLOR, NO_COLOR, NODE_DISABLE_COLORS,
// TERM=dumb), decided for stdout and stderr separately. The spinner runs only when
// stderr is a terminal; every other write to the terminal clears its line first and
// redraws it after, so no frame is ever left behind. Confirmation prompts use
// @inquirer/confirm, loaded only when a command asks.
import * as tty from "node:tty";

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface InStream {
  isTTY?: boolean;
}

export interface IO {
  stdout: OutStream;
  stderr: OutStream;
  /** Where prompts read from; prompts are only offered when it and stderr are terminals. */
  stdin?: InStream;
  env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on the terminal (tests replace it); default: @inquirer/confirm. */
  ask?: (question: string) => Promise<boolean>;
  /** Runs `cleanup` on Ctrl-C while it is registered; returns the unregister function. */
  onInterrupt?: (cleanup: () => void) => () => void;
}

export function processIO(): IO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    onInterrupt: (cleanup) => {
      // Clean up, then let the default handler end the process as Ctrl-C would.
      const handler = () => {
        cleanup();
        process.removeListener("SIGINT", handler);
        process.kill(process.pid, "SIGINT");
      };
      process.on("SIGINT", handler);
      return () => process.removeListener("SIGINT", handler);
    },
  };
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

/**
 * Whether to colour text written to `stream`: FORCE_COLOR decides when set (0 or
 * false: never, anything else: always, even into a pipe); otherwise only a terminal
 * gets colour, and never with NO_COLOR, NODE_DISABLE_COLORS or TERM=dumb.
 */
export function colourAllowed(stream: OutStream, env: NodeJS.ProcessEnv): boolean {
  const getColorDepth = tty.WriteStream.prototype.getColorDepth;
  if (env.FORCE_COLOR !== undefined) {
    // FORCE_COLOR wins; leave NO_COLOR out so Node does not warn about the pair.
    const { NO_COLOR: _ignored, ...forced } = env;
    return getColorDepth.call(stream, forced) > 2;
  }
  return !!stream.isTTY && getColorDepth.call(stream, env) > 2;
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
const CLEAR_LINE = "\r\x1b[K";

export class Ui {
  /** Colours for stdout text. */
  readonly out: Colours;
  /** Colours for stderr text. */
  readonly err: Colours;
  private spinner?: { label: string; frame: number; timer: ReturnType<typeof setInterval> };

  constructor(readonly io: IO) {
    this.out = colours(colourAllowed(io.stdout, io.env));
    this.err = colours(colourAllowed(io.stderr, io.env));
  }

  /** Whether a question can be asked: stdin and stderr are both terminals. */
  get interactive(): boolean {
    return !!this.io.stdin?.isTTY && !!this.io.stderr.isTTY;
  }

  /** A result line (stdout). */
  print(text: string): void {
    this.write(this.io.stdout, text.endsWith("\n") ? text : text + "\n");
  }

  json(value: unknown): void {
    this.write(this.io.stdout, JSON.stringify(value, null, 2) + "\n");
  }

  info(text: string): void {
    this.write(this.io.stderr, text + "\n");
  }

  warn(text: string): void {
    this.write(this.io.stderr, `${this.err.yellow("warning:")} ${text}\n`);
  }

  error(text: string): void {
    this.write(this.io.stderr, `${this.err.red("error:")} ${text}\n`);
  }

  /** Asks a yes/no question on stderr (default no). Only call when `interactive`. */
  async ask(question: string): Promise<boolean> {
    this.pauseSpinner();
    try {
      if (this.io.ask) return await this.io.ask(question);
      const { default: confirm } = require("@inquirer/confirm") as typeof import("@inquirer/confirm");
      return await confirm({ message: question, default: false }, { input: this.io.stdin as NodeJS.ReadableStream, output: this.io.stderr as NodeJS.WritableStream, clearPromptOnDone: false });
    } finally {
      this.resumeSpinner();
    }
  }

  /**
   * Runs `work` with a spinner on stderr when it is a terminal. Nested calls show the
   * inner label. `work` may change the label as it goes (progress counts).
   */
  async spin<T>(label: string, work: (setLabel: (label: string) => void) => Promise<T>): Promise<T> {
    if (!this.io.stderr.isTTY) return work(() => undefined);
    const outer = this.spinner;
    if (outer) clearInterval(outer.timer);
    const spinner = { label, frame: 0, timer: setInterval(() => this.draw(), 80) };
    this.spinner = spinner;
    const unregister = this.io.onInterrupt?.(() => this.stopSpinner());
    this.draw();
    try {
      return await work((next) => {
        spinner.label = next;
      });
    } finally {
      unregister?.();
      this.stopSpinner();
      if (outer) {
        // The same object, so the outer work's label changes still show.
        outer.timer = setInterval(() => this.draw(), 80);
        this.spinner = outer;
        this.draw();
      }
    }
  }

  /** Every write goes here: the spinner's line is cleared first and redrawn after. */
  private write(stream: OutStream, text: string): void {
    const spinning = !!this.spinner && (stream === this.io.stderr || !!stream.isTTY);
    if (spinning) this.io.stderr.write(CLEAR_LINE);
    stream.write(text);
    if (spinning) this.draw();
  }

  private draw(): void {
    const s = this.spinner;
    if (!s) return;
    // One line only: a label wider than the terminal would wrap, and \r clears just the last line.
    const width = Math.max(10, (this.io.stderr.columns || 80) - 3);
    const label = s.label.length > width ? s.label.slice(0, width - 1) + "…" : s.label;
    this.io.stderr.write(`${CLEAR_LINE}${this.err.cyan(FRAMES[s.frame++ % FRAMES.length])} ${label}`);
  }

  private stopSpinner(): void {
    if (!this.spinner) return;
    clearInterval(this.spinner.timer);
    this.spinner = undefined;
    this.io.stderr.write(CLEAR_LINE);
  }

  private paused?: { label: string; frame: number; timer: ReturnType<typeof setInterval> };

  private pauseSpinner(): void {
    if (!this.spinner) return;
    this.paused = this.spinner;
    this.stopSpinner();
  }

  private resumeSpinner(): void {
    if (!this.paused) return;
    this.paused.timer = setInterval(() => this.draw(), 80);
    this.spinner = this.paused;
    this.paused = undefined;
    this.draw();
  }
}

/** Money, the one way haumana-ops writes it: $12.34 (another currency: 12.34 EUR). */
export function money(amount: number, unit = "USD"): string {
  const sign = amount < 0 ? "-" : "";
  const abs = Math.abs(amount).toFixed(2);
  return unit === "USD" ? `${sign}$${abs}` : `${sign}${abs} ${unit}`;
}

const PARTIAL = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A horizontal bar of `width` cells for value/max, in eighths of a cell. */
export function bar(value: number, max: number, width = 30): string {
  if (!(max > 0) || !(value > 0)) return "";
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8));
  return "█".repeat(Math.floor(eighths / 8)) + PARTIAL[eighths % 8];
}

/**
 * A bar for `value` against a `limit`, on a scale of whichever is larger, with a │
 * at the limit's column: under the limit the bar stops short of the marker, over it
 * the bar runs past it (in `over` colour), so 254 % never looks like 100 %.
 * Returns the bar line and the column (0-based) of the marker.
 */
export function limitBar(value: number, limit: number, width = 40, over: (s: string) => string = (s) => s): { line: string; markerColumn: number } {
  const scale = Math.max(value, limit);
  if (!(scale > 0)) return { line: "│", markerColumn: 0 };
  const markerColumn = Math.round((limit / scale) * width);
  const cells = bar(value, scale, width).padEnd(width, " ");
  const before = [...cells].slice(0, markerColumn).join("");
  const after = [...cells].slice(markerColumn).join("").trimEnd();
  return { line: `${before}│${after ? over(after) : ""}`.trimEnd(), markerColumn };
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
