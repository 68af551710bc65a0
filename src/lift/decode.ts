// Decoding x86-64 machine code with iced-x86 into compact, plain records.
// iced-x86 objects live in its wasm heap and must be freed, so one Decoder and
// one Instruction are reused for every decode and everything the lifter needs
// is copied out: operands, the memory operand (RIP-relative already resolved),
// the flags the instruction reads and writes (iced's rflags info, Intel SDM
// Vol. 1 §3.4.3 "EFLAGS Register"), the registers it uses (implicit too),
// and a CPUID feature it needs that the CPU model lacks (cpu-features.ts).
import {
  Code,
  Decoder,
  DecoderOptions,
  FlowControl,
  Instruction,
  InstructionInfoFactory,
  MemorySize,
  MemorySizeExt,
  Mnemonic,
  OpKind,
  Register,
} from "iced-x86";
import { missingFeature } from "./cpu-features.js";

export type DecodedOperand =
  | { readonly kind: "reg"; readonly reg: Register }
  | { readonly kind: "imm"; readonly value: bigint; readonly size: number }
  | { readonly kind: "mem" }
  | { readonly kind: "branch"; readonly target: number };

export interface MemoryOperand {
  readonly base: Register;
  readonly index: Register;
  readonly scale: number;
  /** Sign-extended displacement; for RIP-relative operands the absolute address. */
  readonly displacement: bigint;
  /** FS or GS when a segment with a non-zero base applies, else Register.None. */
  readonly segment: Register;
  /** Bytes accessed (0 for lea and other address-only uses). */
  readonly size: number;
  readonly memorySize: MemorySize;
}

export interface DecodedInstruction {
  readonly ip: number;
  readonly length: number;
  readonly code: Code;
  readonly mnemonic: Mnemonic;
  readonly operands: readonly DecodedOperand[];
  readonly memory?: MemoryOperand;
  readonly flow: FlowControl;
  /** Direct branch/call target, when there is one. */
  readonly target?: number;
  readonly rep: boolean;
  readonly repne: boolean;
  /** RflagsBits read / modified (written, set, cleared or left undefined). */
  readonly flagsRead: number;
  readonly flagsModified: number;
  readonly flagsUndefined: number;
  /** Bit i set: GPR i (RAX=0 … R15=15) is read or written, implicitly or not. */
  readonly gprMask: number;
  /** Bit i set: XMM i is read or written. */
  readonly xmmMask: number;
  /** iced's text form, for reports and trap messages. */
  readonly text: string;
  /** A CPUID feature the instruction needs and the CPU model lacks (e.g. "AVX2"). */
  readonly requires?: string;
  /**
   * On a call whose callee is inlined (inline-calls.ts): the return address
   * it pushes; the call then goes on at `target`, the copy of the callee.
   */
  readonly inlinedCall?: number;
  /** On a `ret` of an inlined copy: the call's return address, where it goes on. */
  readonly inlinedReturn?: number;
  /**
   * The call site of an inlined copy (inline-calls.ts): on its `call`, which
   * keeps the RSP before its push for the copy's exits; on a copy's exit, a
   * call into the callee's own code at `target` that returns to the site's
   * return address with that RSP.
   */
  readonly inlinedSite?: { readonly index: number; readonly callee: number };
}

/** One executable range of the guest image: its bytes and load address. */
export interface CodeRange {
  readonly address: number;
  readonly bytes: Uint8Array;
}

export function gprIndex(reg: Register): number {
  if (reg >= Register.RAX && reg <= Register.R15) return reg - Register.RAX;
  if (reg >= Register.EAX && reg <= Register.R15D) return reg - Register.EAX;
  if (reg >= Register.AX && reg <= Register.R15W) return reg - Register.AX;
  if (reg >= Register.AL && reg <= Register.BL) return reg - Register.AL;
  if (reg >= Register.AH && reg <= Register.BH) return reg - Register.AH;
  if (reg >= Register.SPL && reg <= Register.R15L) return reg - Register.SPL + 4;
  return -1;
}

export function xmmIndex(reg: Register): number {
  if (reg >= Register.XMM0 && reg <= Register.XMM15) return reg - Register.XMM0;
  return -1;
}

function immediateSize(kind: OpKind): number {
  switch (kind) {
    case OpKind.Immediate8:
    case OpKind.Immediate8_2nd:
      return 1;
    case OpKind.Immediate16:
    case OpKind.Immediate8to16:
      return 2;
    case OpKind.Immediate32:
    case OpKind.Immediate8to32:
      return 4;
    default:
      return 8;
  }
}

/** iced's text form of the one instruction in `bytes` at `ip`. */
function formatInstruction(bytes: Uint8Array, ip: number): string {
  const decoder = new Decoder(64, bytes, DecoderOptions.None);
  const instruction = new Instruction();
  try {
    decoder.ip = BigInt(ip);
    decoder.decodeOut(instruction);
    return instruction.toString();
  } finally {
    instruction.free();
    decoder.free();
  }
}

/**
 * Decodes instructions at arbitrary addresses of a set of code ranges.
 * Call dispose() when done: it frees iced's wasm-side objects.
 */
export class CodeDecoder {
  private readonly decoders: { range: CodeRange; decoder: Decoder }[];
  private readonly instruction = new Instruction();
  private readonly infoFactory = new InstructionInfoFactory();
  private readonly cache = new Map<number, DecodedInstruction | null>();

  constructor(ranges: readonly CodeRange[]) {
    this.decoders = ranges.map((range) => ({
      range,
      decoder: new Decoder(64, range.bytes, DecoderOptions.None),
    }));
  }

  /** True when `address` lies in one of the code ranges. */
  contains(address: number): boolean {
    return this.findRange(address) !== undefined;
  }

  /** The instruction at `address`, or null when it is outside code or undecodable. */
  decodeAt(address: number): DecodedInstruction | null {
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    const found = this.findRange(address);
    let result: DecodedInstruction | null = null;
    if (found !== undefined) {
      const offset = address - found.range.address;
      found.decoder.ip = BigInt(address);
      found.decoder.position = offset;
      found.decoder.decodeOut(this.instruction);
      const end = offset + this.instruction.length;
      const fits = end <= found.range.bytes.length;
      if (!this.instruction.isInvalid && fits)
        result = this.extract(this.instruction, found.range.bytes.subarray(offset, end));
    }
    this.cache.set(address, result);
    return result;
  }

  dispose(): void {
    for (const d of this.decoders) d.decoder.free();
    this.instruction.free();
    this.infoFactory.free();
  }

  private findRange(address: number): { range: CodeRange; decoder: Decoder } | undefined {
    return this.decoders.find(
      (d) => address >= d.range.address && address < d.range.address + d.range.bytes.length,
    );
  }

  private extract(ins: Instruction, bytes: Uint8Array): DecodedInstruction {
    const operands: DecodedOperand[] = [];
    let memory: MemoryOperand | undefined;
    let target: number | undefined;
    for (let i = 0; i < ins.opCount; i++) {
      const kind = ins.opKind(i);
      if (kind === OpKind.Register) {
        operands.push({ kind: "reg", reg: ins.opRegister(i) });
      } else if (kind === OpKind.NearBranch64 || kind === OpKind.NearBranch32) {
        target = Number(ins.nearBranchTarget);
        operands.push({ kind: "branch", target });
      } else if (kind >= OpKind.Immediate8 && kind <= OpKind.Immediate32to64) {
        const size = immediateSize(kind);
        operands.push({ kind: "imm", value: BigInt.asUintN(64, ins.immediate(i)), size });
      } else {
        operands.push({ kind: "mem" });
        memory ??= this.memoryOperand(ins, kind);
      }
    }
    let gprMask = 0;
    let xmmMask = 0;
    const info = this.infoFactory.info(ins);
    for (const used of info.usedRegisters() as { register: Register; free(): void }[]) {
      const g = gprIndex(used.register);
      if (g >= 0) gprMask |= 1 << g;
      const x = xmmIndex(used.register);
      if (x >= 0) xmmMask |= 1 << x;
      used.free();
    }
    info.free();
    return {
      ip: Number(ins.ip),
      length: ins.length,
      code: ins.code,
      mnemonic: ins.mnemonic,
      operands,
      memory,
      flow: ins.flowControl,
      target,
      rep: ins.hasRepPrefix || ins.hasRepePrefix,
      repne: ins.hasRepnePrefix,
      flagsRead: ins.rflagsRead,
      flagsModified: ins.rflagsModified,
      flagsUndefined: ins.rflagsUndefined,
      gprMask,
      xmmMask,
      requires: missingFeature(ins.cpuidFeatures(), ins.mnemonic),
      // Formatting costs a fifth of decoding and is needed only for trap
      // messages, so it happens on demand from the instruction's own bytes.
      get text(): string {
        return formatInstruction(bytes, this.ip);
      },
    };
  }

  private memoryOperand(ins: Instruction, kind: OpKind): MemoryOperand {
    const size = MemorySizeExt.size(ins.memorySize);
    const segment = ins.memorySegment;
    const seg = segment === Register.FS || segment === Register.GS ? segment : Register.None;
    if (kind !== OpKind.Memory) {
      // String operands: [rsi] / [rdi] (Intel SDM Vol. 2B "MOVS").
      const base = kind <= OpKind.MemorySegRSI ? Register.RSI : Register.RDI;
      return {
        base,
        index: Register.None,
        scale: 1,
        displacement: 0n,
        segment: seg,
        size,
        memorySize: ins.memorySize,
      };
    }
    if (ins.isIpRelMemoryOperand) {
      return {
        base: Register.None,
        index: Register.None,
        scale: 1,
        displacement: ins.ipRelMemoryAddress,
        segment: seg,
        size,
        memorySize: ins.memorySize,
      };
    }
    return {
      base: ins.memoryBase,
      index: ins.memoryIndex,
      scale: ins.memoryIndexScale,
      displacement: BigInt.asIntN(64, ins.memoryDisplacement),
      segment: seg,
      size,
      memorySize: ins.memorySize,
    };
  }
}
