// BLAKE3 hashing (the hash that names executables in mapping.json).
// blake3-wasm 2.1.5 is pinned: 3.0.0 does not install on our machines.
import blake3 from "blake3-wasm";

/** A streaming BLAKE3 hasher: feed bytes with update(), read hex with digestHex(). */
export interface Blake3Hasher {
  update(chunk: Uint8Array): void;
  digestHex(): string;
}

export function createBlake3(): Blake3Hasher {
  const hash = blake3.createHash();
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
