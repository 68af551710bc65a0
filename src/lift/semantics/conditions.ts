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
