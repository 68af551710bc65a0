// BLAKE3 hashing (the hash that names executables in mapping.json).
// blake3-wasm 2.1.5 is pinned: 3.0.0 does not install on our machines.
// It loads on first use (about 10 ms: its CommonJS modules and its wasm):
// `megalift exec` of a program whose hash is remembered (file-hash-memo.ts)
// never needs it.
import { createRequire } from "node:module";

type Blake3Module = typeof import("blake3-wasm");
let blake3: Blake3Module | undefined;

function loadBlake3(): Blake3Module {
  blake3 ??= createRequire(import.meta.url)("blake3-wasm") as Blake3Module;
  return blake3;
}

/** A streaming BLAKE3 hasher: feed bytes with update(), read hex with digestHex(). */
export interface Blake3Hasher {
  update(chunk: Uint8Array): void;
  digestHex(): string;
}

export function createBlake3(): Blake3Hasher {
  const hash = loadBlake3().createHash();
  return {
    update: (chunk) => void hash.update(chunk),
    digestHex: () => hash.digest("hex"),
  };
}

export function blake3Hex(data: Uint8Array): string {
  const h = createBlake3();
  h.update(data);
  return h.digestHex();
}

/** The form used in scan output and mapping.json: `blake3:<64 hex>`. */
export function formatBlake3(hex: string): string {
  return `blake3:${hex}`;
}
