// ELF64 section headers (gABI "Sections") and their names, which are offsets
// into the section-name string table e_shstrndx. Sections are optional for
// loading (the loader uses segments) but are where .symtab, .eh_frame and
// the relocation tables a lifter wants are found.
import { ByteReader, elfMalformed } from "./byte-reader.js";
import { SHN_UNDEF, SHT_NOBITS, SHT_NULL } from "./constants.js";
import type { ElfHeader } from "./header.js";

export interface SectionHeader {
  readonly index: number;
  /** The name from the section name table ("" when the file has none). */
  readonly name: string;
  /** sh_name: the offset of the name in the section name table. */
  readonly nameOffset: number;
  /** sh_type: SHT_PROGBITS, SHT_SYMTAB, SHT_NOBITS ... */
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  /** File offset; the bytes [offset, offset + size) are checked to lie in the file unless SHT_NOBITS. */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: bigint;
  readonly entsize: number;
}

/** True when the section occupies bytes in the file (gABI: SHT_NOBITS and SHT_NULL do not). */
export function hasFileBytes(section: SectionHeader): boolean {
  return section.type !== SHT_NOBITS && section.type !== SHT_NULL;
}

export function readSectionHeaders(reader: ByteReader, header: ElfHeader): SectionHeader[] {
  const raw: Omit<SectionHeader, "name">[] = [];
  for (let index = 0; index < header.shnum; index++) {
    const at = header.shoff + index * header.shentsize;
    const what = `section header ${index}`;
    const section = {
      index,
      nameOffset: reader.u32(at, `${what} sh_name`),
      type: reader.u32(at + 4, `${what} sh_type`),
      flags: reader.u64(at + 8, `${what} sh_flags`),
      addr: reader.u64(at + 16, `${what} sh_addr`),
      offset: reader.size64(at + 24, `${what} sh_offset`),
      size: reader.size64(at + 32, `${what} sh_size`),
      link: reader.u32(at + 40, `${what} sh_link`),
      info: reader.u32(at + 44, `${what} sh_info`),
      addralign: reader.u64(at + 48, `${what} sh_addralign`),
      entsize: reader.size64(at + 56, `${what} sh_entsize`),
    };
    // Section 0 carries extended-numbering counts in sh_size, not contents.
    if (index > 0 && section.type !== SHT_NOBITS && section.type !== SHT_NULL) {
      reader.requireRange(section.offset, section.size, `${what} contents`);
    }
    raw.push(section);
  }
  const names = sectionNameReader(reader, header, raw);
  return raw.map((s) => Object.freeze({ ...s, name: names(s) }));
}

function sectionNameReader(
  reader: ByteReader,
  header: ElfHeader,
  sections: readonly Omit<SectionHeader, "name">[],
): (section: Omit<SectionHeader, "name">) => string {
  if (header.shstrndx === SHN_UNDEF) return () => "";
  const table = sections[header.shstrndx];
  if (table === undefined || table.type === SHT_NOBITS) {
    elfMalformed(`section name table ${header.shstrndx} has no contents`, header.shoff);
  }
  return (section) => {
    if (section.nameOffset >= table.size) {
      elfMalformed(
        `section ${section.index} name offset ${section.nameOffset} is past the end of the ` +
          `section name table (${table.size} bytes)`,
        table.offset + section.nameOffset,
      );
    }
    return reader.cString(
      table.offset + section.nameOffset,
      table.offset + table.size,
      `section ${section.index} name`,
    );
  };
}

/** The first section with this name (".symtab", ".eh_frame" ...). */
export function findSection(
  sections: readonly SectionHeader[],
  name: string,
): SectionHeader | undefined {
  return sections.find((s) => s.name === name);
}
