// Loads a static ELF into guest memory at the addresses it was lifted for
// and builds the Linux x86-64 start-up stack (System V psABI §3.4.1
// "Initial Stack and Register State"; execve(2), getauxval(3)): argc, argv,
// NULL, envp, NULL, auxv (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY,
// AT_RANDOM, AT_HWCAP, …), then the strings. No vDSO.
import { randomFillSync } from "node:crypto";
import { PT_LOAD, PT_PHDR } from "../elf/index.js";
import { cpuid } from "../lift/cpu-model.js";
import type { GuestImage } from "../lift/guest-image.js";
import type { ProgramImage } from "./process/program.js";
import {
  PAGE_SIZE,
  STACK_TOP,
  STATE_END,
  STATE_FLAG_WATCH,
  STATE_MXCSR,
  STATE_RIP,
  STATE_X87_CW,
  stateGpr,
} from "../lift/guest-layout.js";
import type { Kernel } from "./kernel.js";

const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
} as const;

const ENCODER = new TextEncoder();
/** AT_HWCAP: CPUID.1:EDX of the CPU model the lifter targets. */
const HWCAP = cpuid(1, 0).edx;

/** AT_RANDOM's 16 bytes, drawn from a refilled 4 KiB buffer (one getrandom per 256 execs). */
let randomPool = new Uint8Array(0);
let randomAt = 0;
function randomBytes16(): Uint8Array {
  if (randomAt + 16 > randomPool.length) {
    randomPool = randomFillSync(new Uint8Array(4096));
    randomAt = 0;
  }
  randomAt += 16;
  return randomPool.subarray(randomAt - 16, randomAt);
}

export function loadImage(k: Kernel, image: ProgramImage): void {
  if ("kind" in image) {
    // A polyfill lays out its own memory below `base`; the break starts there.
    k.space.imageStart = Math.ceil(STATE_END / PAGE_SIZE) * PAGE_SIZE;
    k.space.setBreakStart(Math.ceil(image.base / PAGE_SIZE) * PAGE_SIZE);
    return;
  }
  const mem = k.bytes();
  let end = 0;
  let start = Number.MAX_SAFE_INTEGER;
  for (const s of image.segments) {
    start = Math.min(start, s.address);
    mem.set(s.fileBytes, s.address);
    mem.fill(0, s.address + s.fileBytes.length, s.address + s.memorySize);
    end = Math.max(end, s.address + s.memorySize);
  }
  k.space.imageStart = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  k.space.setBreakStart(Math.ceil(end / PAGE_SIZE) * PAGE_SIZE);
}

/** AT_PHDR per image: computed once, an image is exec'd many times. */
const phdrAddresses = new WeakMap<GuestImage, number>();

function phdrAddress(image: GuestImage): number {
  const known = phdrAddresses.get(image);
  if (known !== undefined) return known;
  const elf = image.elf;
  const phdr = elf.segments.find((s) => s.type === PT_PHDR);
  let address: number;
  if (phdr !== undefined) address = image.base + Number(phdr.vaddr);
  else {
    const first = elf.segments.find((s) => s.type === PT_LOAD && s.offset <= elf.header.phoff);
    address =
      image.base + Number((first?.vaddr ?? 0n) - BigInt(first?.offset ?? 0)) + elf.header.phoff;
  }
  phdrAddresses.set(image, address);
  return address;
}

/** Writes `s` and its NUL below `sp`; the new stack pointer (the string's address). */
function pushString(mem: Uint8Array, sp: number, s: string): number {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
  if (!ascii) {
    const bytes = ENCODER.encode(s);
    sp -= bytes.length + 1;
    mem.set(bytes, sp);
    mem[sp + bytes.length] = 0;
    return sp;
  }
  sp -= s.length + 1;
  for (let i = 0; i < s.length; i++) mem[sp + i] = s.charCodeAt(i);
  mem[sp + s.length] = 0;
  return sp;
}

/** Builds the start-up stack and sets RSP, RIP and the other initial registers. */
export function setupStack(
  k: Kernel,
  image: ProgramImage,
  argv: readonly string[],
  env: readonly string[],
): void {
  const mem = k.bytes();
  const v = k.view();
  let sp = STACK_TOP - 16;
  sp = pushString(mem, sp, argv[0] ?? "");
  const execfn = sp;
  sp = pushString(mem, sp, "x86_64");
  const platform = sp;
  const envPtrs: number[] = [];
  for (const e of env) envPtrs.push((sp = pushString(mem, sp, e)));
  const argPtrs: number[] = [];
  for (const a of argv) argPtrs.push((sp = pushString(mem, sp, a)));
  sp -= 16;
  const random = sp;
  mem.set(randomBytes16(), random);
  sp &= ~15;
  const polyfill = "kind" in image;
  // prettier-ignore
  const auxv = [
    // A polyfill has no program headers to show.
    AT.PHDR, polyfill ? 0 : phdrAddress(image),
    AT.PHENT, polyfill ? 56 : image.elf.header.phentsize,
    AT.PHNUM, polyfill ? 0 : image.elf.header.phnum,
    AT.PAGESZ, PAGE_SIZE,
    AT.BASE, 0,
    AT.FLAGS, 0,
    AT.ENTRY, image.entry,
    AT.UID, 0,
    AT.EUID, 0,
    AT.GID, 0,
    AT.EGID, 0,
    AT.PLATFORM, platform,
    AT.HWCAP, HWCAP,
    AT.CLKTCK, 100,
    AT.SECURE, 0,
    AT.RANDOM, random,
    AT.HWCAP2, 0,
    AT.EXECFN, execfn,
    AT.NULL, 0,
  ];
  const count = 1 + argPtrs.length + 1 + envPtrs.length + 1 + auxv.length;
  sp -= count * 8;
  sp &= ~15;
  // Every word is a non-negative number below 2^32 (guest addresses are wasm32 offsets).
  let at = sp;
  const word = (w: number): void => {
    v.setUint32(at, w, true);
    v.setUint32(at + 4, 0, true);
    at += 8;
  };
  word(argv.length);
  for (const p of argPtrs) word(p);
  word(0);
  for (const p of envPtrs) word(p);
  word(0);
  for (const w of auxv) word(w);
  mem.fill(0, stateGpr(0), stateGpr(16));
  v.setBigUint64(stateGpr(4), BigInt(sp), true);
  v.setBigUint64(STATE_RIP, BigInt(image.entry), true);
  v.setUint32(STATE_MXCSR, 0x1f80, true);
  v.setUint32(STATE_FLAG_WATCH, 0, true);
  // FNINIT state: all exceptions masked, 64-bit precision, round to nearest.
  v.setUint32(STATE_X87_CW, 0x37f, true);
}
