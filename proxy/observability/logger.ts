// Structured logging: one JSON object per line. The CLI writes to stdout;
// tests pass a logger that collects lines or drops them.

export type LogRecord = {
  readonly level: "info" | "warn" | "error";
  readonly msg: string;
} & Readonly<Record<string, unknown>>;

export interface Logger {
  log(record: LogRecord): void;
}

/** Writes each record as one JSON line to `out` (stdout by default). */
export function jsonLineLogger(out: NodeJS.WritableStream = process.stdout): Logger {
  return {
    log(record) {
      out.write(JSON.stringify(record) + "\n");
    },
  };
}

export const silentLogger: Logger = { log: () => undefined };
