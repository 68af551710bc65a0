// Progress on long work: one self-overwriting status line on stderr when it is
// a terminal, nothing otherwise (so pipes and CI logs stay clean).

export interface Progress {
  update(text: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 80) return;
      last = now;
      const width = stream.columns ?? 80;
      stream.write(`\r\x1b[K${text.slice(0, width - 1)}`);
      shown = true;
    },
    done() {
      if (shown) stream.write("\r\x1b[K");
      shown = false;
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
