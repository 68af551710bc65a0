// The dynamic symbol table as ld.so finds it. With section headers it is
// .dynsym; without them (sstrip, some packers, hand-made files) it is
// DT_SYMTAB + DT_STRTAB/DT_STRSZ, and its length — which the dynamic section
// does not record — comes from the hash table: DT_HASH's nchain (gABI "Hash
// Table"), or the end of the last DT_GNU_HASH chain (the GNU hash layout as
// in glibc's elf/dl-lookup.c: nbuckets, symoffset, bloom words, buckets,
// chains whose last entry has bit 0 set).
import { elfMalformed } from "./byte-reader.js";
import {
  DT_GNU_HASH,
  DT_HASH,
  DT_STRSZ,
  DT_STRTAB,
  DT_SYMENT,
  DT_SYMTAB,
  ELF64_SYM_SIZE,
} from "./constants.js";
import { dynamicTag } from "./dynamic.js";
import type { Elf64Core } from "./elf-file.js";
import { requireVaddr } from "./program-headers.js";
import { readSymbolVersions } from "./symbol-versions.js";
import { readSymbols, type ElfSymbol, type SymbolTable } from "./symbols.js";

/** The DT_STRTAB string table's file offset and DT_STRSZ, or undefined without them. */
export function dynamicStringTable(elf: Elf64Core): { offset: number; size: number } | undefined {
  const strtab = dynamicTag(elf.dynamic, DT_STRTAB);
  const strsz = dynamicTag(elf.dynamic, DT_STRSZ);
  if (strtab === undefined || strsz === undefined) return undefined;
  if (strsz.value > BigInt(elf.reader.length)) {
    elfMalformed(`DT_STRSZ ${strsz.value} is larger than the file`, strsz.offset);
  }
  const size = Number(strsz.value);
  return {
    offset: requireVaddr(elf.segments, strtab.value, size, "DT_STRTAB", strtab.offset),
    size,
  };
}

/**
 * Where the dynamic symbol table is: the SHT_DYNSYM section when there is
 * one, otherwise DT_SYMTAB sized by the hash table; undefined when neither.
 */
export function locateDynamicSymbolTable(elf: Elf64Core): SymbolTable | undefined {
  if (elf.dynsym !== undefined) return elf.dynsym;
  const symtab = dynamicTag(elf.dynamic, DT_SYMTAB);
  if (symtab === undefined) return undefined;
  const strings = dynamicStringTable(elf);
  if (strings === undefined) {
    elfMalformed("DT_SYMTAB without DT_STRTAB/DT_STRSZ", symtab.offset);
  }
  const entrySize = Number(dynamicTag(elf.dynamic, DT_SYMENT)?.value ?? BigInt(ELF64_SYM_SIZE));
  if (entrySize < ELF64_SYM_SIZE || entrySize > 0x1000) {
    elfMalformed(`DT_SYMENT ${entrySize} is not a symbol size`, symtab.offset);
  }
  const count = dynamicSymbolCount(elf);
  if (count === undefined) {
    elfMalformed("DT_SYMTAB without DT_HASH or DT_GNU_HASH to size it", symtab.offset);
  }
  const offset = requireVaddr(
    elf.segments,
    symtab.value,
    count * entrySize,
    "DT_SYMTAB",
    symtab.offset,
  );
  return Object.freeze({
    kind: "dynsym",
    offset,
    entrySize,
    count,
    strings: Object.freeze(strings),
  });
}

/** Reads the dynamic symbols with their GNU versions ([] when there is no table). */
export function readDynamicSymbols(elf: Elf64Core): ElfSymbol[] {
  const table = locateDynamicSymbolTable(elf);
  if (table === undefined) return [];
  const versions = readSymbolVersions(elf, table.count, dynamicStringTable(elf) ?? table.strings);
  return readSymbols(elf.reader, elf.sections, table, versions);
}

/** The number of dynamic symbols the hash tables account for (including symbol 0). */
function dynamicSymbolCount(elf: Elf64Core): number | undefined {
  const { reader, segments } = elf;
  const hash = dynamicTag(elf.dynamic, DT_HASH);
  if (hash !== undefined) {
    const at = requireVaddr(segments, hash.value, 8, "DT_HASH", hash.offset);
    return reader.u32(at + 4, "DT_HASH nchain");
  }
  const gnu = dynamicTag(elf.dynamic, DT_GNU_HASH);
  if (gnu === undefined) return undefined;
  const at = requireVaddr(segments, gnu.value, 16, "DT_GNU_HASH", gnu.offset);
  const nbuckets = reader.u32(at, "DT_GNU_HASH nbuckets");
  const symoffset = reader.u32(at + 4, "DT_GNU_HASH symoffset");
  const bloomSize = reader.u32(at + 8, "DT_GNU_HASH bloom_size");
  const buckets = at + 16 + bloomSize * 8;
  reader.requireRange(buckets, nbuckets * 4, "DT_GNU_HASH buckets");
  let last = 0;
  for (let i = 0; i < nbuckets; i++) last = Math.max(last, reader.u32(buckets + i * 4, "bucket"));
  if (last === 0) return symoffset; // no hashed symbols: only the unhashed ones before symoffset
  if (last < symoffset) elfMalformed(`DT_GNU_HASH bucket ${last} is below symoffset`, buckets);
  const chains = buckets + nbuckets * 4;
  // Follow the last bucket's chain to its end (bit 0 set): that symbol is the table's last.
  for (let index = last; ; index++) {
    if ((reader.u32(chains + (index - symoffset) * 4, "DT_GNU_HASH chain") & 1) !== 0) {
      return index + 1;
    }
  }
}
