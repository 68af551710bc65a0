// The typed table from iced-x86 Mnemonic to semantic handler: one entry list
// per instruction family, joined here. A mnemonic absent from the table is
// reported at lift time and compiled to an explicit trap. Control flow
// (jcc, jmp, call, ret, loop) ends blocks and is lifted by control-flow.ts.
import { Mnemonic } from "iced-x86";
import { binarySemantics } from "./binary.js";
import { bitOpSemantics } from "./bit-op.js";
import { conversionSemantics } from "./conversion.js";
import { crc32Semantics } from "./crc32.js";
import { dataTransferSemantics } from "./data-transfer.js";
import { flagControlSemantics } from "./flag-control.js";
import { logicalSemantics } from "./logical.js";
import { privilegedSemantics } from "./privileged.js";
import { rotateCarrySemantics } from "./rotate-carry.js";
import { sseSemantics } from "./sse.js";
import { sseArithSemantics } from "./sse-arith.js";
import { sseConvertSemantics } from "./sse-convert.js";
import { sseFloatSemantics } from "./sse-float.js";
import { sseFloatPackedSemantics } from "./sse-float-packed.js";
import { sseRoundingSemantics } from "./sse-rounding.js";
import { sse41Semantics } from "./sse41.js";
import { sse42StringSemantics } from "./sse42-string.js";
import { ssse3Semantics } from "./ssse3.js";
import { cmpsdString, movsdString, stringOpSemantics } from "./string-op.js";
import { systemSemantics } from "./system.js";
import { x87Semantics } from "./x87.js";
import type { Handler, SemanticsEntry } from "./types.js";
import type { DecodedInstruction } from "../decode.js";

const FAMILIES: readonly (readonly SemanticsEntry[])[] = [
  binarySemantics,
  logicalSemantics,
  dataTransferSemantics,
  conversionSemantics,
  bitOpSemantics,
  rotateCarrySemantics,
  flagControlSemantics,
  stringOpSemantics,
  sseSemantics,
  sseFloatSemantics,
  sseConvertSemantics,
  sseFloatPackedSemantics,
  sseRoundingSemantics,
  ssse3Semantics,
  sse41Semantics,
  sse42StringSemantics,
  sseArithSemantics,
  crc32Semantics,
  privilegedSemantics,
  systemSemantics,
  x87Semantics,
];

export const SEMANTICS: ReadonlyMap<Mnemonic, Handler> = new Map(FAMILIES.flat());

/** The handler for an instruction, resolving mnemonics iced shares between families. */
export function handlerFor(ins: DecodedInstruction): Handler | undefined {
  const isString = ins.operands[0]?.kind === "mem" && ins.operands[1]?.kind === "mem";
  if (ins.mnemonic === Mnemonic.Movsd && (isString || ins.operands.length === 0))
    return movsdString;
  if (ins.mnemonic === Mnemonic.Cmpsd && (isString || ins.operands.length === 0))
    return cmpsdString;
  return SEMANTICS.get(ins.mnemonic);
}
