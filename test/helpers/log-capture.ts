/** A real logger (JSON format) whose lines a test can read back, parsed. */
import { createLogger, type Logger } from "../../src/logger.ts";

export interface CapturedLog {
  log: Logger;
  lines: Record<string, any>[];
  raw: string[];
}

export function captureLog(): CapturedLog {
  const raw: string[] = [];
  const lines: Record<string, any>[] = [];
  const log = createLogger("debug", {
    format: "json",
    write: (line) => {
      raw.push(line);
      lines.push(JSON.parse(line));
    },
  });
  return { log, lines, raw };
}
