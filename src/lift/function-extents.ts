// The address ranges .eh_frame FDEs give functions (initial location +
// address range, LSB "Exception Frame" / DWARF 5 §6.4.1). Jump-table recovery
// uses them to keep an unbounded table read inside the jumping function.
import { MegaliftError } from "../errors.js";
import type { GuestImage } from "./guest-image.js";

export interface Extent {
  readonly start: number;
  readonly end: number;
}

export class FunctionExtents {
  /** Sorted by start; FDEs do not overlap in compiler output. */
  private readonly extents: Extent[] = [];

  constructor(image: GuestImage) {
    try {
      for (const fde of image.elf.ehFrame()?.fdes ?? []) {
        const start = Number(fde.initialLocation) + image.base;
        if (fde.addressRange > 0n)
          this.extents.push({ start, end: start + Number(fde.addressRange) });
      }
    } catch (err) {
      // A table that does not parse bounds nothing (discovery works without it).
      if (!(err instanceof MegaliftError)) throw err;
    }
    this.extents.sort((a, b) => a.start - b.start);
  }

  /** The FDE range holding `address`, if any. */
  containing(address: number): Extent | undefined {
    let low = 0;
    let high = this.extents.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const e = this.extents[mid] as Extent;
      if (address < e.start) high = mid - 1;
      else if (address >= e.end) low = mid + 1;
      else return e;
    }
    return undefined;
  }
}
