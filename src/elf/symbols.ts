// Symbol tables (gABI "Symbol Table"): .symtab (full, removed by strip) and
// .dynsym (what the dynamic linker uses, kept by strip). For now they are
// located and counted — enough to tell a stripped file — and can be read
// entry by entry; a lifter uses them for function discovery.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import { ELF64_SYM_SIZE, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB } from "./constants.js";
import type { SectionHeader } from "./sections.js";

export interface SymbolTable {
  /** SHT_SYMTAB (".symtab") or SHT_DYNSYM (".dynsym"). */
  readonly kind: "symtab" | "dynsym";
  readonly sectionIndex: number;
  readonly offset: number;
  readonly entrySize: number;
  /** Entries including the null symbol at index 0. */
  readonly count: number;
  /** Index of the string table holding the names (sh_link). */
  readonly stringTableIndex: number;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2 (st_info >> 4). */
  readonly bind: number;
  /** STT_NOTYPE 0, STT_OBJECT 1, STT_FUNC 2, STT_SECTION 3, STT_FILE 4, STT_TLS 6, STT_GNU_IFUNC 10. */
  readonly type: number;
  /** STV_DEFAULT 0 ... (st_other & 3). */
  readonly visibility: number;
  /** st_shndx: the section the symbol is defined in (SHN_UNDEF 0 for imports). */
  readonly sectionIndex: number;
}

/** The first SHT_SYMTAB and SHT_DYNSYM sections, checked for a sane shape. */
export function locateSymbolTables(sections: readonly SectionHeader[]): {
  symtab?: SymbolTable;
  dynsym?: SymbolTable;
} {
  const find = (type: number, kind: SymbolTable["kind"]): SymbolTable | undefined => {
    const section = sections.find((s) => s.type === type);
    if (section === undefined) return undefined;
    const entrySize = section.entsize === 0 ? ELF64_SYM_SIZE : section.entsize;
    if (entrySize < ELF64_SYM_SIZE) {
      elfMalformed(
        `${kind} section ${section.index} sh_entsize ${entrySize} is below 24`,
        section.offset,
      );
    }
    const strings = sections[section.link];
    if (section.link === 0 || strings === undefined || strings.type === SHT_NOBITS) {
      elfMalformed(
        `${kind} section ${section.index} names string table ${section.link}, which does not exist`,
        section.offset,
      );
    }
    return Object.freeze({
      kind,
      sectionIndex: section.index,
      offset: section.offset,
      entrySize,
      count: Math.floor(section.size / entrySize),
      stringTableIndex: section.link,
    });
  };
  return { symtab: find(SHT_SYMTAB, "symtab"), dynsym: find(SHT_DYNSYM, "dynsym") };
}

/** Every entry of a symbol table (Elf64_Sym), names resolved through its string table. */
export function readSymbols(
  reader: ByteReader,
  sections: readonly SectionHeader[],
  table: SymbolTable,
): ElfSymbol[] {
  const strings = sections[table.stringTableIndex];
  if (strings === undefined) {
    elfMalformed(`string table ${table.stringTableIndex} does not exist`, table.offset);
  }
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < table.count; index++) {
    const at = table.offset + index * table.entrySize;
    const what = `${table.kind} symbol ${index}`;
    const nameOffset = reader.u32(at, `${what} st_name`);
    const info = reader.u8(at + 4, `${what} st_info`);
    if (nameOffset >= strings.size && nameOffset !== 0) {
      elfMalformed(`${what} name offset ${nameOffset} is past its string table`, at);
    }
    symbols.push(
      Object.freeze({
        index,
        name:
          strings.size === 0
            ? ""
            : reader.cString(strings.offset + nameOffset, strings.offset + strings.size, what),
        value: reader.u64(at + 8, `${what} st_value`),
        size: reader.u64(at + 16, `${what} st_size`),
        bind: info >> 4,
        type: info & 0xf,
        visibility: reader.u8(at + 5, `${what} st_other`) & 3,
        sectionIndex: reader.u16(at + 6, `${what} st_shndx`),
      }),
    );
  }
  return symbols;
}
