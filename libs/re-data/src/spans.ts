import { tokenize } from '@biore/text';
import { UserError } from '@biore/runtime';

export interface CharSpan {
  start: number;
  end: number;
}

export interface TokenizedSentence {
  tokens: string[];
  /** Character offsets (into the full text) of each token. */
  starts: number[];
  ends: number[];
}

/**
 * Tokenizes text[from, to) with every given entity boundary forced to be a token boundary, so each entity
 * maps onto whole tokens even inside words ("IL-2-induced" with the gene "IL-2" gives "IL-2", "-", "induced").
 */
export function tokenizeWithBoundaries(text: string, from: number, to: number, entities: CharSpan[]): TokenizedSentence {
  const cuts = new Set<number>([from, to]);
  for (const e of entities) {
    if (e.start > from && e.start < to) cuts.add(e.start);
    if (e.end > from && e.end < to) cuts.add(e.end);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: TokenizedSentence = { tokens: [], starts: [], ends: [] };
  for (let k = 0; k + 1 < sorted.length; k++) {
    const a = sorted[k];
    for (const t of tokenize(text.slice(a, sorted[k + 1]))) {
      out.tokens.push(t.text);
      out.starts.push(a + t.start);
      out.ends.push(a + t.end);
    }
  }
  return out;
}

/**
 * The token span [start, end) covering the characters [cs, ce); tokens inside the range. Throws a UserError
 * (with `where`) when the range holds no token.
 */
export function tokenSpan(s: TokenizedSentence, cs: number, ce: number, where: { file: string; record: string }): { start: number; end: number } {
  let start = -1;
  let end = -1;
  for (let i = 0; i < s.tokens.length; i++) {
    if (s.starts[i] >= cs && s.ends[i] <= ce) {
      if (start < 0) start = i;
      end = i + 1;
    } else if (s.starts[i] >= ce) break;
  }
  if (start < 0) throw new UserError(`entity at characters ${cs}-${ce} covers no token`, where);
  return { start, end };
}
