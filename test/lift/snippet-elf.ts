// Builds a tiny static x86-64 ELF around a machine-code snippet, so one
// instruction sequence can run natively and lifted and the results compare.
// After the snippet, RAX RBX RCX RDX are stored at 0x400800 and written to
// stdout (32 bytes), then exit_group(0). One RWX PT_LOAD at 0x400000.
const BASE = 0x400000;
const CODE_OFFSET = 0x78;
export const RESULT_ADDRESS = 0x400800;
/** Where the snippet's first byte is loaded (the entry point). */
export const SNIPPET_ENTRY = BASE + CODE_OFFSET;

const EPILOGUE = [
  [0x48, 0x89, 0x04, 0x25, 0x00, 0x08, 0x40, 0x00], // mov [0x400800], rax
  [0x48, 0x89, 0x1c, 0x25, 0x08, 0x08, 0x40, 0x00], // mov [0x400808], rbx
  [0x48, 0x89, 0x0c, 0x25, 0x10, 0x08, 0x40, 0x00], // mov [0x400810], rcx
  [0x48, 0x89, 0x14, 0x25, 0x18, 0x08, 0x40, 0x00], // mov [0x400818], rdx
  [0xb8, 0x01, 0x00, 0x00, 0x00], // mov eax, 1 (write)
  [0xbf, 0x01, 0x00, 0x00, 0x00], // mov edi, 1
  [0xbe, 0x00, 0x08, 0x40, 0x00], // mov esi, 0x400800
  [0xba, 0x20, 0x00, 0x00, 0x00], // mov edx, 32
  [0x0f, 0x05], // syscall
  [0xb8, 0xe7, 0x00, 0x00, 0x00], // mov eax, 231 (exit_group)
  [0x31, 0xff], // xor edi, edi
  [0x0f, 0x05], // syscall
].flat();

export function snippetElf(snippet: readonly number[]): Uint8Array {
  const code = [...snippet, ...EPILOGUE];
  const size = CODE_OFFSET + code.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, little-endian, SysV
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(BASE + CODE_OFFSET), true); // e_entry
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(54, 56, true); // e_phentsize
  v.setUint16(56, 1, true); // e_phnum
  v.setUint16(58, 64, true); // e_shentsize
  const ph = 64;
  v.setUint32(ph, 1, true); // PT_LOAD
  v.setUint32(ph + 4, 7, true); // RWX
  v.setBigUint64(ph + 8, 0n, true);
  v.setBigUint64(ph + 16, BigInt(BASE), true);
  v.setBigUint64(ph + 24, BigInt(BASE), true);
  v.setBigUint64(ph + 32, BigInt(size), true);
  v.setBigUint64(ph + 40, 0x1000n, true);
  v.setBigUint64(ph + 48, 0x1000n, true);
  out.set(code, CODE_OFFSET);
  return out;
}

/** The four result registers from the snippet's 32 bytes of output. */
export function resultRegisters(stdout: Uint8Array): {
  rax: bigint;
  rbx: bigint;
  rcx: bigint;
  rdx: bigint;
} {
  const v = new DataView(stdout.buffer, stdout.byteOffset, stdout.byteLength);
  return {
    rax: v.getBigUint64(0, true),
    rbx: v.getBigUint64(8, true),
    rcx: v.getBigUint64(16, true),
    rdx: v.getBigUint64(24, true),
  };
}
