// The dynamic section as the loader sees it: the PT_DYNAMIC segment's
// Elf64_Dyn entries up to DT_NULL (gABI "Dynamic Section"). Its string
// values (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH) are offsets into the
// table at DT_STRTAB, which is a virtual address: it is translated to a file
// offset through the PT_LOAD segments, as ld.so finds it after mapping.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import {
  DT_FLAGS,
  DT_FLAGS_1,
  DT_NEEDED,
  DT_NULL,
  DT_RPATH,
  DT_RUNPATH,
  DT_SONAME,
  DT_STRSZ,
  DT_STRTAB,
  ELF64_DYN_SIZE,
  PT_DYNAMIC,
} from "./constants.js";
import { vaddrToOffset, type ProgramHeader } from "./program-headers.js";

export interface DynamicEntry {
  /** d_tag (an Elf64_Sxword; every defined tag fits a number exactly). */
  readonly tag: number;
  /** d_val / d_ptr. */
  readonly value: bigint;
}

export interface DynamicSection {
  /** File offset of the PT_DYNAMIC segment (entry i is at offset + 16 * i). */
  readonly offset: number;
  /** The entries before DT_NULL, in file order. */
  readonly entries: readonly DynamicEntry[];
  /** DT_NEEDED names in order: the libraries the loader maps, breadth first. */
  readonly needed: readonly string[];
  readonly soname?: string;
  /** DT_RPATH as stored (colon-separated; searched before LD_LIBRARY_PATH, deprecated). */
  readonly rpath?: string;
  /** DT_RUNPATH as stored (colon-separated; may contain $ORIGIN). */
  readonly runpath?: string;
  /** DT_FLAGS (0n when absent). */
  readonly flags: bigint;
  /** DT_FLAGS_1 (0n when absent); DF_1_PIE marks a position-independent executable. */
  readonly flags1: bigint;
}

/** The dynamic section, or undefined when the file has no PT_DYNAMIC segment. */
export function readDynamic(
  reader: ByteReader,
  segments: readonly ProgramHeader[],
): DynamicSection | undefined {
  const segment = segments.find((s) => s.type === PT_DYNAMIC);
  if (segment === undefined) return undefined;

  const entries: DynamicEntry[] = [];
  const count = Math.floor(segment.filesz / ELF64_DYN_SIZE);
  for (let i = 0; i < count; i++) {
    const at = segment.offset + i * ELF64_DYN_SIZE;
    const tag = Number(reader.i64(at, `dynamic entry ${i} d_tag`));
    if (tag === DT_NULL) break;
    entries.push(Object.freeze({ tag, value: reader.u64(at + 8, `dynamic entry ${i} d_val`) }));
  }

  const valueOf = (tag: number): bigint | undefined => entries.find((e) => e.tag === tag)?.value;
  const strings = dynamicStringReader(reader, segments, segment.offset, {
    strtab: valueOf(DT_STRTAB),
    strsz: valueOf(DT_STRSZ),
  });
  const stringOf = (tag: number, name: string): string | undefined => {
    const value = valueOf(tag);
    return value === undefined ? undefined : strings(value, name);
  };

  return Object.freeze({
    offset: segment.offset,
    entries: Object.freeze(entries),
    needed: Object.freeze(
      entries.filter((e) => e.tag === DT_NEEDED).map((e) => strings(e.value, "DT_NEEDED")),
    ),
    soname: stringOf(DT_SONAME, "DT_SONAME"),
    rpath: stringOf(DT_RPATH, "DT_RPATH"),
    runpath: stringOf(DT_RUNPATH, "DT_RUNPATH"),
    flags: valueOf(DT_FLAGS) ?? 0n,
    flags1: valueOf(DT_FLAGS_1) ?? 0n,
  });
}

/** Reads strings of the DT_STRTAB table, located lazily so a file that needs none may lack it. */
function dynamicStringReader(
  reader: ByteReader,
  segments: readonly ProgramHeader[],
  dynamicOffset: number,
  { strtab, strsz }: { strtab: bigint | undefined; strsz: bigint | undefined },
): (offset: bigint, what: string) => string {
  let table: { offset: number; size: number } | undefined;
  const locate = (): { offset: number; size: number } => {
    if (table !== undefined) return table;
    if (strtab === undefined || strsz === undefined) {
      elfMalformed("dynamic section has string entries but no DT_STRTAB/DT_STRSZ", dynamicOffset);
    }
    if (strsz > BigInt(reader.length)) {
      elfMalformed(`DT_STRSZ ${strsz} is larger than the file`, dynamicOffset);
    }
    const size = Number(strsz);
    const offset = vaddrToOffset(segments, strtab, size);
    if (offset === undefined) {
      elfMalformed(
        `DT_STRTAB 0x${strtab.toString(16)} (+${size}) is not inside a PT_LOAD segment's file bytes`,
        dynamicOffset,
      );
    }
    table = { offset, size };
    return table;
  };
  return (value, what) => {
    const { offset, size } = locate();
    if (value >= BigInt(size)) {
      elfMalformed(`${what} string offset ${value} is past DT_STRSZ ${size}`, offset);
    }
    return reader.cString(offset + Number(value), offset + size, `${what} string`);
  };
}

/** The first entry with this tag and its file offset (for error messages), or undefined. */
export function dynamicTag(
  dynamic: DynamicSection | undefined,
  tag: number,
): { value: bigint; offset: number } | undefined {
  if (dynamic === undefined) return undefined;
  const index = dynamic.entries.findIndex((e) => e.tag === tag);
  const entry = dynamic.entries[index];
  return entry === undefined
    ? undefined
    : { value: entry.value, offset: dynamic.offset + index * ELF64_DYN_SIZE };
}
