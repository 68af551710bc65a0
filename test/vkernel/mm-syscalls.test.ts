// mmap, munmap and mremap as Linux answers them (mmap(2), mremap(2)):
// MAP_FIXED and MREMAP_FIXED give exactly the address asked for or an
// error, and the arguments Linux refuses get its errno. Driven through
// handleSyscall, the entry the lifted code calls.
import { describe, expect, it } from "vitest";
import { MMAP_BASE } from "../../src/lift/guest-layout.js";
import { EBADF, EEXIST, EINVAL } from "../../src/vkernel/errno.js";
import { Kernel } from "../../src/vkernel/kernel.js";
import { handleSyscall } from "../../src/vkernel/syscalls/index.js";
import { imageRoot, preloadContent } from "../../src/vkernel/vfs/index.js";
import { sampleView } from "./vfs/image-fixture.js";

const NR = { mmap: 9, munmap: 11, mremap: 25 } as const;
const PROT_RW = 3;
const MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
const MAP_FIXED = 0x10;
const MAP_FIXED_NOREPLACE = 0x100000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;
const MREMAP_DONTUNMAP = 4;
const PAGE = 4096;

async function kernel(): Promise<Kernel> {
  const view = sampleView();
  return new Kernel(new WebAssembly.Memory({ initial: 2, maximum: 65536 }), {
    vfs: imageRoot(view, await preloadContent(view)),
    argv: [],
    env: [],
  });
}

function sys(k: Kernel, nr: number, ...args: number[]): number {
  const regs = [7, 6, 2, 10, 8, 9];
  args.forEach((arg, i) => k.setGpr(regs[i] as number, BigInt(arg)));
  k.setGpr(0, BigInt(nr));
  handleSyscall(k);
  return Number(BigInt.asIntN(64, k.gpr(0)));
}

const anonymous = (k: Kernel, length: number, address = 0, flags = 0): number =>
  sys(k, NR.mmap, address, length, PROT_RW, MAP_PRIVATE_ANONYMOUS | flags, -1, 0);

describe("mmap(2)", () => {
  it("MAP_FIXED replaces what is mapped at exactly that address, zeroed", async () => {
    const k = await kernel();
    const a = anonymous(k, 3 * PAGE);
    expect(a).toBe(MMAP_BASE);
    k.bytes().fill(0xaa, a, a + 3 * PAGE);
    expect(anonymous(k, PAGE, a + PAGE, MAP_FIXED)).toBe(a + PAGE);
    expect(k.bytes()[a + PAGE]).toBe(0);
    expect(k.bytes()[a]).toBe(0xaa);
    expect(k.bytes()[a + 2 * PAGE]).toBe(0xaa);
    // The replaced page stays in use: the next mapping goes after all three.
    expect(anonymous(k, PAGE)).toBe(a + 3 * PAGE);
  });

  it("refuses an unaligned fixed address, and MAP_FIXED_NOREPLACE over a mapping", async () => {
    const k = await kernel();
    const a = anonymous(k, PAGE);
    expect(anonymous(k, PAGE, a + 1, MAP_FIXED)).toBe(-EINVAL);
    expect(anonymous(k, PAGE, a, MAP_FIXED_NOREPLACE)).toBe(-EEXIST);
    expect(anonymous(k, PAGE, a + 4 * PAGE, MAP_FIXED_NOREPLACE)).toBe(a + 4 * PAGE);
    // The refused request left nothing mapped behind it.
    expect(anonymous(k, PAGE)).toBe(a + PAGE);
  });

  it("a fixed file mapping of a closed descriptor fails with EBADF and replaces nothing", async () => {
    const k = await kernel();
    const a = anonymous(k, PAGE);
    k.bytes()[a] = 7;
    expect(sys(k, NR.mmap, a, PAGE, PROT_RW, 0x02 | MAP_FIXED, 42, 0)).toBe(-EBADF);
    expect(k.bytes()[a]).toBe(7);
    expect(anonymous(k, PAGE)).toBe(a + PAGE);
  });
});

describe("munmap(2)", () => {
  it("refuses an unaligned address and a zero length", async () => {
    const k = await kernel();
    const a = anonymous(k, 2 * PAGE);
    expect(sys(k, NR.munmap, a + 8, PAGE)).toBe(-EINVAL);
    expect(sys(k, NR.munmap, a, 0)).toBe(-EINVAL);
    expect(sys(k, NR.munmap, a, PAGE)).toBe(0);
    expect(anonymous(k, PAGE)).toBe(a);
  });
});

describe("mremap(2)", () => {
  it("refuses a zero size, an unaligned address and flags Linux refuses", async () => {
    const k = await kernel();
    const a = anonymous(k, PAGE);
    expect(sys(k, NR.mremap, a, PAGE, 0, MREMAP_MAYMOVE)).toBe(-EINVAL);
    expect(sys(k, NR.mremap, a, 0, PAGE, MREMAP_MAYMOVE)).toBe(-EINVAL);
    expect(sys(k, NR.mremap, a + 8, PAGE, 2 * PAGE, MREMAP_MAYMOVE)).toBe(-EINVAL);
    expect(sys(k, NR.mremap, a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)).toBe(-EINVAL);
    expect(sys(k, NR.mremap, a, PAGE, PAGE, MREMAP_FIXED, a + 8 * PAGE)).toBe(-EINVAL);
    // Nothing was changed: it still grows in place.
    expect(sys(k, NR.mremap, a, PAGE, 2 * PAGE, 0)).toBe(a);
  });

  it("MREMAP_FIXED moves the contents to exactly the new address", async () => {
    const k = await kernel();
    const a = anonymous(k, 2 * PAGE);
    k.bytes().fill(0x5a, a, a + 2 * PAGE);
    const target = a + 16 * PAGE;
    expect(sys(k, NR.mremap, a, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target)).toBe(
      target,
    );
    expect(k.bytes()[target + 2 * PAGE - 1]).toBe(0x5a);
    expect(k.bytes()[target + 2 * PAGE]).toBe(0);
    // The old range was unmapped; a target overlapping the source is refused.
    expect(anonymous(k, PAGE)).toBe(a);
    expect(
      sys(k, NR.mremap, target, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + PAGE),
    ).toBe(-EINVAL);
  });
});
