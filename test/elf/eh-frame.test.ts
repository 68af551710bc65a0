// .eh_frame CIEs and FDEs compared with `readelf --debug-dump=frames`
// (offsets, CIE links, augmentation strings, pc ranges) on every fixture and
// the host's libc.so.6; .eh_frame_hdr's search table against the FDEs; and
// .eh_frame found through PT_GNU_EH_FRAME when the section headers are gone.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DW_EH_PE_pcrel, DW_EH_PE_sdata4, parseElf64 } from "../../src/elf/index.js";
import {
  HOST_LIBC,
  allElfFixtures,
  fixturePath,
  readFixture,
  withoutSectionHeaders,
} from "./fixtures.js";
import { readelfEhFrame, type ReadelfFrameRecord } from "./readelf.js";

const hasLibc = existsSync(HOST_LIBC);
const files = [...allElfFixtures().map(fixturePath), ...(hasLibc ? [HOST_LIBC] : [])];

describe(".eh_frame agrees with readelf --debug-dump=frames", () => {
  for (const path of files) {
    it(path.replace(/.*fixtures\/bin\//, ""), () => {
      const frame = parseElf64(new Uint8Array(readFileSync(path))).ehFrame();
      const records: ReadelfFrameRecord[] = [
        ...(frame?.cies ?? []).map((c) => ({
          offset: c.offset,
          kind: "CIE" as const,
          augmentation: c.augmentation,
        })),
        ...(frame?.fdes ?? []).map((f) => ({
          offset: f.offset,
          kind: "FDE" as const,
          cieOffset: f.cieOffset,
          pcBegin: f.initialLocation,
          pcEnd: f.initialLocation + f.addressRange,
        })),
      ].sort((a, b) => a.offset - b.offset);
      expect(records).toEqual(readelfEhFrame(path));
    });
  }
});

describe(".eh_frame", () => {
  it("reads CIE fields and keeps each FDE's raw CFA instructions", () => {
    const frame = parseElf64(readFixture("dynamic/greet")).ehFrame()!;
    const cie = frame.cies[0]!;
    expect(cie).toMatchObject({
      version: 1,
      augmentation: "zR",
      codeAlignment: 1n,
      dataAlignment: -8n,
      returnAddressRegister: 16,
      fdeEncoding: DW_EH_PE_pcrel | DW_EH_PE_sdata4,
      signalFrame: false,
    });
    // DW_CFA_def_cfa r7 ofs 8; DW_CFA_offset r16 at cfa-8 (readelf's listing of this CIE).
    expect([...cie.instructions.subarray(0, 4)]).toEqual([0x0c, 0x07, 0x08, 0x90]);
    expect(frame.fdes.every((f) => f.instructions.length > 0)).toBe(true);
  });

  it("reads glibc's personality/LSDA ('zPLR') and signal-frame ('zRS') CIEs", () => {
    const frame = parseElf64(readFixture("glibc/hello")).ehFrame()!;
    const zplr = frame.cies.find((c) => c.augmentation === "zPLR")!;
    expect(zplr.personality).toBeDefined();
    expect(zplr.personality?.indirect).toBe(true);
    expect(frame.cies.find((c) => c.augmentation === "zRS")?.signalFrame).toBe(true);
    const withLsda = frame.fdes.filter((f) => f.cieOffset === zplr.offset);
    expect(withLsda.length).toBeGreaterThan(0);
    expect(withLsda.every((f) => f.lsda !== undefined && !f.lsda.indirect)).toBe(true);
  });

  it("matches .eh_frame_hdr's binary search table to the FDEs", () => {
    const inputs = ["dynamic/greet", "dynamic/libgreet.so.1", "relr/sort-search"].map(readFixture);
    if (hasLibc) inputs.push(new Uint8Array(readFileSync(HOST_LIBC)));
    for (const bytes of inputs) {
      const elf = parseElf64(bytes);
      const frame = elf.ehFrame()!;
      const hdr = elf.ehFrameHdr()!;
      expect(hdr.version).toBe(1);
      expect(hdr.ehFramePointer).toBe(frame.address);
      const fromFdes = frame.fdes
        .map((f) => ({ initialLocation: f.initialLocation, fdeAddress: f.address }))
        .sort((a, b) => (a.initialLocation < b.initialLocation ? -1 : 1));
      expect(hdr.table).toEqual(fromFdes);
    }
  });

  it("finds .eh_frame through PT_GNU_EH_FRAME without section headers", () => {
    const inputs = ["dynamic/greet", "static-pie/hello-nolibc", "relr/sort-search"].map(
      readFixture,
    );
    if (hasLibc) inputs.push(new Uint8Array(readFileSync(HOST_LIBC)));
    for (const bytes of inputs) {
      const expected = parseElf64(bytes).ehFrame()!;
      const frame = parseElf64(withoutSectionHeaders(bytes)).ehFrame()!;
      expect(frame.fdes).toEqual(expected.fdes);
      expect(frame.cies).toEqual(expected.cies);
    }
  });

  it("has no .eh_frame_hdr in a static glibc binary, and nothing without either", () => {
    const elf = parseElf64(readFixture("glibc/hello"));
    expect(elf.ehFrameHdr()).toBeUndefined();
    expect(elf.ehFrame()?.fdes.length).toBeGreaterThan(100);
    expect(parseElf64(withoutSectionHeaders(readFixture("glibc/hello"))).ehFrame()).toBeUndefined();
  });
});
