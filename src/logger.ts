/**
 * Leveled logger, one line per entry on stderr: JSON in production (and
 * whenever stderr is not a terminal), a readable coloured line in a
 * development terminal. Callers pass structured fields and never tokens,
 * secrets or message bodies; as a second guard, fields with those names are
 * written as "[redacted]". Request lines carry `req_id`, socket lines `sid`.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  format?: LogFormat;
  /** Where lines go (default stderr); tests capture them here. */
  write?: (line: string) => void;
}

type Level = Exclude<LogLevel, "silent">;

/** Field names whose values never reach a log line, whoever passes them. */
const SECRET_FIELDS = /^(token|access_token|refresh_token|authorization|cookie|password|secret|jwt|message|body)$/i;

/** "pretty" when stderr is a terminal outside production, else "json" (what log collectors expect). */
export function defaultLogFormat(nodeEnv: string, isTTY = process.stderr.isTTY === true): LogFormat {
  return isTTY && nodeEnv !== "production" ? "pretty" : "json";
}

export function createLogger(level: LogLevel, opts: LoggerOptions = {}): Logger {
  const min = ORDER[level];
  const out = opts.write ?? ((line: string) => void process.stderr.write(line));
  const format = opts.format === "pretty" ? pretty : json;
  const write = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    out(`${format(new Date(), lvl, msg, fields ? clean(fields) : undefined)}\n`);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}

function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELDS.test(k)) out[k] = "[redacted]";
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message, stack: v.stack };
    else out[k] = v;
  }
  return out;
}

function json(t: Date, level: Level, msg: string, fields?: Record<string, unknown>): string {
  return JSON.stringify({ t: t.toISOString(), level, msg, ...fields });
}

const COLOR: Record<Level, string> = { debug: "\x1b[90m", info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/** `12:00:01.234 INFO  msg key=value …`: one line; an error shows its message and first stack frame. */
function pretty(t: Date, level: Level, msg: string, fields?: Record<string, unknown>): string {
  const time = t.toISOString().slice(11, 23);
  let line = `${DIM}${time}${RESET} ${COLOR[level]}${level.toUpperCase().padEnd(5)}${RESET} ${msg}`;
  for (const [k, v] of Object.entries(fields ?? {})) line += ` ${DIM}${k}=${RESET}${prettyValue(v)}`;
  return line;
}

function prettyValue(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (v && typeof v === "object" && "stack" in v && "message" in v) {
    const e = v as { name?: string; message: string; stack?: string };
    const at = e.stack?.split("\n").find((l) => l.trim().startsWith("at "))?.trim();
    return JSON.stringify(`${e.name ?? "Error"}: ${e.message}${at ? ` (${at})` : ""}`);
  }
  return JSON.stringify(v) ?? String(v);
}
