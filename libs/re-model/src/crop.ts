import type { RelationInstance } from '@biore/re-data';

/**
 * Keeps at most `maxTokens` tokens of a sentence, centred on the two entities so neither is cut:
 * long ChemProt sentences (some over 200 tokens) otherwise dominate the recurrent cost of a batch.
 */
export function cropAroundEntities(inst: RelationInstance, maxTokens: number): RelationInstance {
  const n = inst.tokens.length;
  if (!(maxTokens > 0) || n <= maxTokens) return inst;
  const lo = Math.min(inst.e1.start, inst.e2.start);
  const hi = Math.max(inst.e1.end, inst.e2.end);
  const span = hi - lo;
  if (span >= maxTokens) return { ...inst, tokens: inst.tokens.slice(lo, hi), e1: shift(inst.e1, lo), e2: shift(inst.e2, lo) };
  const spare = maxTokens - span;
  let start = Math.max(0, lo - Math.floor(spare / 2));
  const end = Math.min(n, start + maxTokens);
  start = Math.max(0, end - maxTokens);
  return { ...inst, tokens: inst.tokens.slice(start, end), e1: shift(inst.e1, start), e2: shift(inst.e2, start) };
}

function shift<E extends { start: number; end: number }>(e: E, by: number): E {
  return { ...e, start: e.start - by, end: e.end - by };
}
