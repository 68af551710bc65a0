// Sizes in configuration: a byte count, or a number with a decimal (KB, MB,
// GB, TB) or binary (KiB, MiB, GiB, TiB) unit.

const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** Bytes for `value` ("10GiB", "500 MB", 1048576), or undefined when it is not a size. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 ? value : undefined;
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?$/i.exec(value.trim());
  if (!match) return undefined;
  const unit = UNITS[(match[2] ?? "B").toUpperCase()];
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit);
}
