// Flag liveness: only flags some path reads before writing are live at a
// block end; calls clobber every flag; syscall preserves them.
import { describe, expect, it } from "vitest";
import { CodeDecoder } from "../../src/lift/decode.js";
import type { DiscoveredFunction } from "../../src/lift/discover.js";
import { OF, SF } from "../../src/lift/emit/flags.js";
import { flagEffect, flagsLiveOut } from "../../src/lift/flags-liveness.js";
import { decodedBlock } from "./decoded-block.js";

const block = decodedBlock;

describe("flagsLiveOut", () => {
  it("keeps only the flags the successor reads before writing", () => {
    // A: cmp rax, rbx      (0x1000, 3 bytes)
    // B: jl +0 ; (reads SF OF)  then C: test rax,rax ; jz (writes all, reads ZF)
    const code = [0x48, 0x39, 0xd8, 0x7c, 0x00, 0x48, 0x85, 0xc0, 0x74, 0x00];
    const decoder = new CodeDecoder([{ address: 0x1000, bytes: new Uint8Array(code) }]);
    try {
      const a = block(decoder, 0x1000, 1);
      const b = block(decoder, 0x1003, 1);
      const c = block(decoder, 0x1005, 2);
      const fn: DiscoveredFunction = {
        entry: 0x1000,
        blocks: new Map([
          [a.start, a],
          [b.start, b],
          [c.start, c],
        ]),
      };
      const live = flagsLiveOut(
        fn,
        new Map([
          [0x1000, [0x1003]],
          [0x1003, [0x1005]],
          [0x1005, []],
        ]),
      );
      expect(live.get(0x1000)).toBe(SF | OF);
      expect(live.get(0x1003)).toBe(0);
      expect(live.get(0x1005)).toBe(0);
    } finally {
      decoder.dispose();
    }
  });

  it("treats calls and syscall as clobbering the flags", () => {
    // syscall: the vkernel resumes a blocked or forked process after it with
    // no flags (compilers treat every x86 asm statement as clobbering them).
    const code = [0xe8, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x05];
    const decoder = new CodeDecoder([{ address: 0x2000, bytes: new Uint8Array(code) }]);
    try {
      const call = decoder.decodeAt(0x2000);
      const sys = decoder.decodeAt(0x2005);
      expect(call && flagEffect(call)).toEqual({ read: 0, written: 63 });
      expect(sys && flagEffect(sys)).toEqual({ read: 0, written: 63 });
    } finally {
      decoder.dispose();
    }
  });
});
