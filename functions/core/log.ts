// Structured logs: one JSON line per request, no payloads, no tokens. Every
// handler logs through here so the shape (and what is never logged) is one
// decision.

export type LogFields = Record<string, string | number | boolean | undefined | null>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type LogSink = (line: string) => void;

let sink: LogSink = (line) => process.stdout.write(line + "\n");

/** Tests and the bench capture log lines through this. */
export function setLogSink(next: LogSink): LogSink {
  const prev = sink;
  sink = next;
  return prev;
}

function emit(level: string, msg: string, fields: LogFields = {}) {
  sink(JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields }));
}

export const log: Logger = {
  info: (msg, fields) => emit("info", msg, fields),
  warn: (msg, fields) => emit("warn", msg, fields),
  error: (msg, fields) => emit("error", msg, fields),
};
