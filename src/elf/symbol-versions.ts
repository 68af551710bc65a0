// GNU symbol versioning (LSB Core 5.0, "Symbol Versioning"): .gnu.version
// (DT_VERSYM) gives each dynamic symbol a version index, which names either
// a version this object defines (.gnu.version_d, DT_VERDEF) or one it needs
// from a library (.gnu.version_r, DT_VERNEED). This is what turns "memcpy"
// into "memcpy@GLIBC_2.14" — and the lifter must bind the right one.
import { elfMalformed } from "./byte-reader.js";
import {
  DT_VERDEF,
  DT_VERDEFNUM,
  DT_VERNEED,
  DT_VERNEEDNUM,
  DT_VERSYM,
  SHN_UNDEF,
  VER_FLG_BASE,
  VER_NDX_GLOBAL,
  VERSYM_HIDDEN,
  VERSYM_VERSION,
} from "./constants.js";
import { dynamicTag } from "./dynamic.js";
import type { Elf64Core } from "./elf-file.js";
import { requireVaddr } from "./program-headers.js";

export interface SymbolVersion {
  /** The version index from .gnu.version, hidden bit removed (2 and up). */
  readonly index: number;
  /** "GLIBC_2.14" ... */
  readonly name: string;
  /** VERSYM_HIDDEN: a non-default version, written name@VER rather than name@@VER. */
  readonly hidden: boolean;
  /** Defined by this object (Verdef) rather than required from another one (Verneed). */
  readonly defined: boolean;
  /** For a required version, the library that must provide it (vn_file), e.g. "libc.so.6". */
  readonly file?: string;
}

/** Safety bound on Verdef/Verneed chains when DT_VERDEFNUM/DT_VERNEEDNUM are missing. */
const MAX_VERSION_ENTRIES = 0x8000;

/**
 * A lookup from dynamic symbol index to its version, or undefined when the
 * file has no DT_VERSYM. `strings` is the dynamic string table (file offset
 * and size); `shndxOf` gives a symbol's st_shndx, since defined symbols are
 * looked up in Verdef first and undefined ones in Verneed first (as readelf).
 */
export function readSymbolVersions(
  elf: Elf64Core,
  symbolCount: number,
  strings: { offset: number; size: number },
): ((index: number, sectionIndex: number) => SymbolVersion | undefined) | undefined {
  const versym = dynamicTag(elf.dynamic, DT_VERSYM);
  if (versym === undefined) return undefined;
  const { reader, segments } = elf;
  const versymOffset = requireVaddr(
    segments,
    versym.value,
    symbolCount * 2,
    "DT_VERSYM",
    versym.offset,
  );
  const stringAt = (offset: number, what: string, at: number): string => {
    if (offset >= strings.size) elfMalformed(`${what} name offset ${offset} is past DT_STRSZ`, at);
    return reader.cString(strings.offset + offset, strings.offset + strings.size, what);
  };

  const defs = new Map<number, { name: string; base: boolean }>();
  const verdef = dynamicTag(elf.dynamic, DT_VERDEF);
  if (verdef !== undefined) {
    const count = Number(
      dynamicTag(elf.dynamic, DT_VERDEFNUM)?.value ?? BigInt(MAX_VERSION_ENTRIES),
    );
    let at = requireVaddr(segments, verdef.value, 20, "DT_VERDEF", verdef.offset);
    for (let i = 0; i < Math.min(count, MAX_VERSION_ENTRIES); i++) {
      const what = `Verdef ${i}`;
      const flags = reader.u16(at + 2, `${what} vd_flags`);
      const index = reader.u16(at + 4, `${what} vd_ndx`);
      const cnt = reader.u16(at + 6, `${what} vd_cnt`);
      const aux = reader.u32(at + 12, `${what} vd_aux`);
      const next = reader.u32(at + 16, `${what} vd_next`);
      if (cnt > 0) {
        // The first Verdaux names the version; later ones name its parents.
        const name = stringAt(reader.u32(at + aux, `${what} vda_name`), what, at + aux);
        defs.set(index, { name, base: (flags & VER_FLG_BASE) !== 0 });
      }
      if (next === 0) break;
      at += next;
    }
  }

  const needs = new Map<number, { name: string; file: string }>();
  const verneed = dynamicTag(elf.dynamic, DT_VERNEED);
  if (verneed !== undefined) {
    const count = Number(
      dynamicTag(elf.dynamic, DT_VERNEEDNUM)?.value ?? BigInt(MAX_VERSION_ENTRIES),
    );
    let at = requireVaddr(segments, verneed.value, 16, "DT_VERNEED", verneed.offset);
    for (let i = 0; i < Math.min(count, MAX_VERSION_ENTRIES); i++) {
      const what = `Verneed ${i}`;
      const cnt = reader.u16(at + 2, `${what} vn_cnt`);
      const file = stringAt(reader.u32(at + 4, `${what} vn_file`), what, at + 4);
      let auxAt = at + reader.u32(at + 8, `${what} vn_aux`);
      for (let j = 0; j < cnt; j++) {
        const auxWhat = `${what} Vernaux ${j}`;
        const other = reader.u16(auxAt + 6, `${auxWhat} vna_other`);
        const name = stringAt(reader.u32(auxAt + 8, `${auxWhat} vna_name`), auxWhat, auxAt + 8);
        needs.set(other, { name, file });
        const auxNext = reader.u32(auxAt + 12, `${auxWhat} vna_next`);
        if (auxNext === 0) break;
        auxAt += auxNext;
      }
      const next = reader.u32(at + 12, `${what} vn_next`);
      if (next === 0) break;
      at += next;
    }
  }

  return (index, sectionIndex) => {
    const raw = reader.u16(versymOffset + index * 2, `DT_VERSYM entry ${index}`);
    const versionIndex = raw & VERSYM_VERSION;
    // 0 (VER_NDX_LOCAL) and 1 (VER_NDX_GLOBAL) carry no version name.
    if (versionIndex <= VER_NDX_GLOBAL) return undefined;
    const hidden = (raw & VERSYM_HIDDEN) !== 0;
    const def = defs.get(versionIndex);
    const need = needs.get(versionIndex);
    const fromDef =
      def !== undefined && !def.base
        ? Object.freeze({ index: versionIndex, name: def.name, hidden, defined: true })
        : undefined;
    const fromNeed =
      need !== undefined
        ? Object.freeze({
            index: versionIndex,
            name: need.name,
            hidden,
            defined: false,
            file: need.file,
          })
        : undefined;
    return sectionIndex === SHN_UNDEF ? (fromNeed ?? fromDef) : (fromDef ?? fromNeed);
  };
}
