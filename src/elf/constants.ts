// Numeric constants of the ELF format, named as in <elf.h>. Sources: the
// System V gABI ("ELF Header", "Program Header", "Sections", "Dynamic
// Section" chapters, 2013 draft), the System V x86-64 psABI, and the GNU
// extensions documented in glibc's elf/elf.h.

/** e_ident indices and values (gABI "ELF Identification"). */
export const ELF_MAGIC = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46); // "\x7fELF"
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_ABIVERSION = 8;
export const EI_NIDENT = 16;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

/** Sizes of the ELF64 structures (gABI; Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Dyn, Elf64_Sym). */
export const ELF64_EHDR_SIZE = 64;
export const ELF64_PHDR_SIZE = 56;
export const ELF64_SHDR_SIZE = 64;
export const ELF64_DYN_SIZE = 16;
export const ELF64_SYM_SIZE = 24;
/** e_type and e_machine sit at the same offsets in ELF32 and ELF64 headers. */
export const E_TYPE_OFFSET = 16;
export const E_MACHINE_OFFSET = 18;

/** e_type. */
export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

/** e_machine: the architectures container images actually carry, plus a few neighbours. */
export const EM_386 = 3;
export const EM_MIPS = 8;
export const EM_PPC = 20;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_SPARCV9 = 43;
export const EM_IA_64 = 50;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_BPF = 247;
export const EM_LOONGARCH = 258;

/** Short machine names, as `uname -m` / Debian would spell them. */
export const MACHINE_NAMES: ReadonlyMap<number, string> = new Map([
  [EM_386, "i386"],
  [EM_MIPS, "mips"],
  [EM_PPC, "ppc"],
  [EM_PPC64, "ppc64"],
  [EM_S390, "s390"],
  [EM_ARM, "arm"],
  [EM_SPARCV9, "sparcv9"],
  [EM_IA_64, "ia64"],
  [EM_X86_64, "x86-64"],
  [EM_AARCH64, "aarch64"],
  [EM_RISCV, "riscv"],
  [EM_BPF, "bpf"],
  [EM_LOONGARCH, "loongarch"],
]);

/** Extended numbering (gABI "Sections": e_phnum/e_shnum/e_shstrndx that do not fit). */
export const PN_XNUM = 0xffff;
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_XINDEX = 0xffff;

/** p_type. */
export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;

/** p_flags. */
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** sh_type. */
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_X86_64_UNWIND = 0x70000001;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

/** sh_flags (64-bit field; the low bits are all that matter here). */
export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_TLS = 0x400n;

/** d_tag. */
export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_PLTRELSZ = 2;
export const DT_PLTGOT = 3;
export const DT_HASH = 4;
export const DT_STRTAB = 5;
export const DT_SYMTAB = 6;
export const DT_RELA = 7;
export const DT_RELASZ = 8;
export const DT_RELAENT = 9;
export const DT_STRSZ = 10;
export const DT_SYMENT = 11;
export const DT_INIT = 12;
export const DT_FINI = 13;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_SYMBOLIC = 16;
export const DT_REL = 17;
export const DT_RELSZ = 18;
export const DT_RELENT = 19;
export const DT_PLTREL = 20;
export const DT_DEBUG = 21;
export const DT_TEXTREL = 22;
export const DT_JMPREL = 23;
export const DT_BIND_NOW = 24;
export const DT_INIT_ARRAY = 25;
export const DT_FINI_ARRAY = 26;
export const DT_INIT_ARRAYSZ = 27;
export const DT_FINI_ARRAYSZ = 28;
export const DT_RUNPATH = 29;
export const DT_FLAGS = 30;
export const DT_PREINIT_ARRAY = 32;
export const DT_PREINIT_ARRAYSZ = 33;
export const DT_RELRSZ = 35;
export const DT_RELR = 36;
export const DT_RELRENT = 37;
export const DT_GNU_HASH = 0x6ffffef5;
export const DT_VERSYM = 0x6ffffff0;
export const DT_RELACOUNT = 0x6ffffff9;
export const DT_RELCOUNT = 0x6ffffffa;
export const DT_FLAGS_1 = 0x6ffffffb;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;

/** DT_FLAGS bits (gABI). */
export const DF_ORIGIN = 0x1n;
export const DF_SYMBOLIC = 0x2n;
export const DF_TEXTREL = 0x4n;
export const DF_BIND_NOW = 0x8n;
export const DF_STATIC_TLS = 0x10n;

/** DT_FLAGS_1 bits (GNU, elf/elf.h). DF_1_PIE is set by binutils ld ≥ 2.32 for -pie and -static-pie. */
export const DF_1_NOW = 0x1n;
export const DF_1_NODELETE = 0x8n;
export const DF_1_NOOPEN = 0x40n;
export const DF_1_ORIGIN = 0x80n;
export const DF_1_PIE = 0x8000000n;

/** Symbol st_info / st_other fields (gABI "Symbol Table"; STT_GNU_IFUNC and STB_GNU_UNIQUE from elf/elf.h). */
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

/** GNU symbol versioning (LSB Core "Symbol Versioning"): .gnu.version entries and Verdef flags. */
export const VERSYM_HIDDEN = 0x8000;
export const VERSYM_VERSION = 0x7fff;
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
export const VER_FLG_BASE = 0x1;

/** Sizes of the relocation entries (gABI "Relocation"; RELR from the gABI's SHT_RELR proposal). */
export const ELF64_RELA_SIZE = 24;
export const ELF64_RELR_SIZE = 8;
