// Start-up and shutdown code the loader or libc calls before and after
// main (gABI "Dynamic Section" DT_INIT, DT_FINI, DT_PREINIT_ARRAY,
// DT_INIT_ARRAY, DT_FINI_ARRAY and their sizes; "Initialization and
// Termination Functions"). In a PIE or shared object the array slots hold 0
// (RELA) or a link-time address (RELR) that a RELATIVE relocation fixes up;
// the values here have the relocations applied, at link-time addresses.
// Static executables have no dynamic section: their arrays are found by
// section type (SHT_INIT_ARRAY ...) and _init/_fini as .init/.fini.
import {
  DT_FINI,
  DT_FINI_ARRAY,
  DT_FINI_ARRAYSZ,
  DT_INIT,
  DT_INIT_ARRAY,
  DT_INIT_ARRAYSZ,
  DT_PREINIT_ARRAY,
  DT_PREINIT_ARRAYSZ,
  SHT_FINI_ARRAY,
  SHT_INIT_ARRAY,
  SHT_PREINIT_ARRAY,
} from "./constants.js";
import { elfMalformed } from "./byte-reader.js";
import { dynamicTag } from "./dynamic.js";
import type { Elf64File } from "./elf-file.js";
import { requireVaddr } from "./program-headers.js";
import { relocationTarget, type Relocation } from "./relocations.js";
import { findSection, hasFileBytes } from "./sections.js";

export interface InitFini {
  /** DT_INIT (static executables: the .init section, i.e. _init). */
  readonly init?: bigint;
  /** DT_FINI (static executables: the .fini section, i.e. _fini). */
  readonly fini?: bigint;
  /** Function pointers, in array order, relocated. A slot bound to an imported symbol is left out. */
  readonly preinitArray: readonly bigint[];
  readonly initArray: readonly bigint[];
  readonly finiArray: readonly bigint[];
}

/** DT_INIT/DT_FINI and the three arrays of an executable or shared object. */
export function readInitFini(elf: Elf64File): InitFini {
  let relocated: Map<bigint, Relocation> | undefined;
  const relocationAt = (address: bigint): Relocation | undefined => {
    relocated ??= new Map(elf.relocations().map((r) => [r.offset, r]));
    return relocated.get(address);
  };
  const array = (address: bigint, size: number, what: string, errorOffset: number): bigint[] => {
    const offset = requireVaddr(elf.segments, address, size, what, errorOffset);
    const pointers: bigint[] = [];
    for (let i = 0; i < Math.floor(size / 8); i++) {
      const slot = address + BigInt(i * 8);
      const relocation = relocationAt(slot);
      if (relocation === undefined) {
        pointers.push(elf.reader.u64(offset + i * 8, `${what} entry ${i}`));
        continue;
      }
      const target = relocationTarget(relocation);
      if (target !== undefined) pointers.push(target);
    }
    return Object.freeze(pointers) as bigint[];
  };

  if (elf.dynamic !== undefined) {
    const fromTags = (addrTag: number, sizeTag: number, what: string): bigint[] => {
      const addr = dynamicTag(elf.dynamic, addrTag);
      const size = dynamicTag(elf.dynamic, sizeTag);
      if (addr === undefined) return [];
      if (size === undefined || size.value > BigInt(elf.reader.length)) {
        elfMalformed(`${what} without a sane size`, size?.offset ?? addr.offset);
      }
      return array(addr.value, Number(size.value), what, addr.offset);
    };
    const init = dynamicTag(elf.dynamic, DT_INIT)?.value;
    const fini = dynamicTag(elf.dynamic, DT_FINI)?.value;
    return Object.freeze({
      ...(init !== undefined ? { init } : {}),
      ...(fini !== undefined ? { fini } : {}),
      preinitArray: fromTags(DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAY"),
      initArray: fromTags(DT_INIT_ARRAY, DT_INIT_ARRAYSZ, "DT_INIT_ARRAY"),
      finiArray: fromTags(DT_FINI_ARRAY, DT_FINI_ARRAYSZ, "DT_FINI_ARRAY"),
    });
  }

  const fromSections = (type: number): bigint[] =>
    elf.sections
      .filter((s) => s.type === type && hasFileBytes(s))
      .flatMap((s) => array(s.addr, s.size, `section ${s.name}`, s.offset));
  const init = findSection(elf.sections, ".init")?.addr;
  const fini = findSection(elf.sections, ".fini")?.addr;
  return Object.freeze({
    ...(init !== undefined ? { init } : {}),
    ...(fini !== undefined ? { fini } : {}),
    preinitArray: fromSections(SHT_PREINIT_ARRAY),
    initArray: fromSections(SHT_INIT_ARRAY),
    finiArray: fromSections(SHT_FINI_ARRAY),
  });
}
