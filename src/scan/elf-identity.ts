// What scan says about one ELF file: class, machine, type, PIE or shared
// library, interpreter, needed libraries, soname, static or dynamic linkage,
// and whether it is stripped — the facts `file` and `readelf -hld` show.
import {
  DF_1_PIE,
  DT_NEEDED,
  ET_CORE,
  ET_DYN,
  ET_EXEC,
  ET_NONE,
  ET_REL,
  MACHINE_NAMES,
  PT_INTERP,
  type ElfFile,
} from "../elf/index.js";

export type ElfTypeName = "NONE" | "REL" | "EXEC" | "DYN" | "CORE" | "OTHER";

/** The identity of a 64-bit ELF file, fully parsed. */
export interface Elf64Identity {
  readonly elfClass: 64;
  readonly endian: "little" | "big";
  /** "x86-64", "aarch64" ... or "EM_<n>" for machines without a short name. */
  readonly machine: string;
  readonly type: ElfTypeName;
  /** A position-independent executable (including static-pie). */
  readonly pie: boolean;
  /** ET_DYN that is not a PIE: something loaded by another program. */
  readonly sharedLibrary: boolean;
  readonly interpreter?: string;
  readonly needed: readonly string[];
  readonly soname?: string;
  readonly runpath?: string;
  readonly rpath?: string;
  /** static: no PT_INTERP and no DT_NEEDED (static-pie is static). */
  readonly linkage: "static" | "dynamic";
  /** No .symtab section. */
  readonly stripped: boolean;
  /** e_entry as hex ("0x401590"). */
  readonly entry: string;
}

/** ELFCLASS32: identified, not parsed further. */
export interface Elf32Identity {
  readonly elfClass: 32;
  readonly endian: "little" | "big";
  readonly machine: string;
  readonly type: ElfTypeName;
}

export type ElfIdentity = Elf64Identity | Elf32Identity;

export function machineName(machine: number): string {
  return MACHINE_NAMES.get(machine) ?? `EM_${machine}`;
}

export function elfTypeName(type: number): ElfTypeName {
  switch (type) {
    case ET_NONE:
      return "NONE";
    case ET_REL:
      return "REL";
    case ET_EXEC:
      return "EXEC";
    case ET_DYN:
      return "DYN";
    case ET_CORE:
      return "CORE";
    default:
      return "OTHER";
  }
}

export function elfIdentity(elf: ElfFile): ElfIdentity {
  if (elf.elfClass === 32) {
    return {
      elfClass: 32,
      endian: elf.ident.littleEndian ? "little" : "big",
      machine: machineName(elf.machine),
      type: elfTypeName(elf.type),
    };
  }
  const { header, dynamic, interpreter } = elf;
  const type = elfTypeName(header.type);
  const hasInterp = elf.segments.some((s) => s.type === PT_INTERP);
  // dynamic is read from PT_DYNAMIC, so DT_NEEDED here means "needed at load time".
  const hasNeeded = dynamic?.entries.some((e) => e.tag === DT_NEEDED) ?? false;
  // binutils ld ≥ 2.32 marks PIEs with DF_1_PIE; older ones are told apart
  // from libraries by having a program interpreter and no soname (libc.so.6
  // has PT_INTERP too, but also a DT_SONAME).
  const pie =
    type === "DYN" &&
    (((dynamic?.flags1 ?? 0n) & DF_1_PIE) !== 0n || (hasInterp && dynamic?.soname === undefined));
  return {
    elfClass: 64,
    endian: header.ident.littleEndian ? "little" : "big",
    machine: machineName(header.machine),
    type,
    pie,
    sharedLibrary: type === "DYN" && !pie,
    ...(interpreter !== undefined ? { interpreter } : {}),
    needed: dynamic?.needed ?? [],
    ...(dynamic?.soname !== undefined ? { soname: dynamic.soname } : {}),
    ...(dynamic?.runpath !== undefined ? { runpath: dynamic.runpath } : {}),
    ...(dynamic?.rpath !== undefined ? { rpath: dynamic.rpath } : {}),
    // A static-pie has PT_DYNAMIC (for its own relative relocations) but no
    // interpreter and nothing needed: it is static.
    linkage: !hasInterp && !hasNeeded ? "static" : "dynamic",
    stripped: elf.symtab === undefined,
    entry: `0x${header.entry.toString(16)}`,
  };
}

/** How scan counts an ELF: a program, a library, or something else (objects, cores, 32-bit DYN). */
export function elfRole(identity: ElfIdentity): "executable" | "shared-library" | "other" {
  if (identity.type === "EXEC") return "executable";
  if (identity.elfClass === 64 && identity.type === "DYN") {
    return identity.pie ? "executable" : "shared-library";
  }
  return "other";
}
