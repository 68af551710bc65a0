// Condition codes of jcc/setcc/cmovcc mnemonics (SDM Vol. 2 Appendix B.1.4.7
// "Condition Test (tttn) Field"), as iced-x86 ConditionCode values.
import { ConditionCode, Mnemonic } from "iced-x86";

const BY_SUFFIX: Record<string, ConditionCode> = {
  o: ConditionCode.o,
  no: ConditionCode.no,
  b: ConditionCode.b,
  ae: ConditionCode.ae,
  e: ConditionCode.e,
  ne: ConditionCode.ne,
  be: ConditionCode.be,
  a: ConditionCode.a,
  s: ConditionCode.s,
  ns: ConditionCode.ns,
  p: ConditionCode.p,
  np: ConditionCode.np,
  l: ConditionCode.l,
  ge: ConditionCode.ge,
  le: ConditionCode.le,
  g: ConditionCode.g,
};

const cache = new Map<Mnemonic, ConditionCode>();

/** The condition of a Jcc/SETcc/CMOVcc mnemonic. */
export function conditionOf(mnemonic: Mnemonic): ConditionCode {
  const hit = cache.get(mnemonic);
  if (hit !== undefined) return hit;
  const name = Mnemonic[mnemonic].toLowerCase();
  const suffix = name.replace(/^(j|set|cmov)/, "");
  const cc = BY_SUFFIX[suffix];
  if (cc === undefined) throw new Error(`no condition in ${name}`);
  cache.set(mnemonic, cc);
  return cc;
}

/** cmovCC, in condition-code order. */
export const CMOVS = [
  Mnemonic.Cmovo,
  Mnemonic.Cmovno,
  Mnemonic.Cmovb,
  Mnemonic.Cmovae,
  Mnemonic.Cmove,
  Mnemonic.Cmovne,
  Mnemonic.Cmovbe,
  Mnemonic.Cmova,
  Mnemonic.Cmovs,
  Mnemonic.Cmovns,
  Mnemonic.Cmovp,
  Mnemonic.Cmovnp,
  Mnemonic.Cmovl,
  Mnemonic.Cmovge,
  Mnemonic.Cmovle,
  Mnemonic.Cmovg,
];
/** setCC, in condition-code order. */
export const SETS = [
  Mnemonic.Seto,
  Mnemonic.Setno,
  Mnemonic.Setb,
  Mnemonic.Setae,
  Mnemonic.Sete,
  Mnemonic.Setne,
  Mnemonic.Setbe,
  Mnemonic.Seta,
  Mnemonic.Sets,
  Mnemonic.Setns,
  Mnemonic.Setp,
  Mnemonic.Setnp,
  Mnemonic.Setl,
  Mnemonic.Setge,
  Mnemonic.Setle,
  Mnemonic.Setg,
];
