import { UserError } from '@biore/runtime';
import type { EntityIndicator, EntitySpan, EntityType, RelationInstance } from './types.ts';

/** Hiai et al.'s tag names (chem, gene, dise) and ours for drugs and proteins. */
export const TAG_NAMES: Record<EntityType, string> = { CHEMICAL: 'chem', GENE: 'gene', DRUG: 'drug', PROTEIN: 'prot', DISEASE: 'dise' };
/** BLUE/BioBERT placeholders. */
export const PLACEHOLDERS: Record<EntityType, string> = { CHEMICAL: '@CHEMICAL$', GENE: '@GENE$', DRUG: '@DRUG$', PROTEIN: '@PROTEIN$', DISEASE: '@DISEASE$' };
const SHORT: Record<EntityType, string> = { CHEMICAL: 'CHEM', GENE: 'GENE', DRUG: 'DRUG', PROTEIN: 'PROTEIN', DISEASE: 'DISEASE' };

/** The placeholder for two overlapping entities, as BLUE writes it: `@CHEM-GENE$`, `@DRUG-DRUG$`, … */
export function overlapPlaceholder(a: EntityType, b: EntityType): string {
  return `@${SHORT[a]}-${SHORT[b]}$`;
}

export function spansOverlap(a: EntitySpan, b: EntitySpan): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * The instance's tokens with entity indicators:
 * - `tags` keeps the words and wraps each entity: `<chem> aspirin </chem>`. When the spans overlap or nest,
 *   each tag still sits at its own entity's edges (closing tags before opening ones at the same position,
 *   e2's tags inside e1's when both spans are equal), e.g. `<gene> <chem> glucose </chem> transporter </gene>`.
 * - `replacement` replaces each entity by its placeholder (`@CHEMICAL$ … @GENE$`); when the spans
 *   overlap, their union becomes one combined placeholder in e1–e2 order (`@CHEM-GENE$`), as in BLUE.
 * Instances whose entities are already placeholders (GAD) pass through `replacement` unchanged
 * and cannot take `tags`.
 */
export function applyIndicator(inst: RelationInstance, indicator: EntityIndicator): string[] {
  const { tokens, e1, e2 } = inst;
  const alreadyReplaced = tokens[e1.start] === PLACEHOLDERS[e1.type] && e1.end - e1.start === 1 && e1.text === PLACEHOLDERS[e1.type];
  if (indicator === 'replacement') {
    if (alreadyReplaced) return [...tokens];
    if (spansOverlap(e1, e2)) {
      const s = Math.min(e1.start, e2.start);
      const e = Math.max(e1.end, e2.end);
      return [...tokens.slice(0, s), overlapPlaceholder(e1.type, e2.type), ...tokens.slice(e)];
    }
    const [first, second] = e1.start < e2.start ? [e1, e2] : [e2, e1];
    return [
      ...tokens.slice(0, first.start), PLACEHOLDERS[first.type],
      ...tokens.slice(first.end, second.start), PLACEHOLDERS[second.type],
      ...tokens.slice(second.end),
    ];
  }
  if (indicator === 'tags') {
    if (alreadyReplaced) {
      throw new UserError(`instance ${inst.id}: its entities are already replaced by placeholders (GAD), so only the 'replacement' indicator is possible, not 'tags'`);
    }
    const opens: string[][] = tokens.map(() => []);
    const closes: string[][] = Array.from({ length: tokens.length + 1 }, () => []);
    // at a shared start the longer span opens first (outermost); at a shared end the later-starting span
    // closes first; equal spans nest e2 inside e1
    const byOpen = e1.start === e2.start && e2.end > e1.end ? [e2, e1] : [e1, e2];
    const byClose = e1.end === e2.end && e1.start > e2.start ? [e1, e2] : [e2, e1];
    for (const e of byOpen) opens[e.start].push(`<${TAG_NAMES[e.type]}>`);
    for (const e of byClose) closes[e.end].push(`</${TAG_NAMES[e.type]}>`);
    const out: string[] = [];
    for (let i = 0; i <= tokens.length; i++) {
      out.push(...closes[i]);
      if (i < tokens.length) out.push(...opens[i], tokens[i]);
    }
    return out;
  }
  throw new UserError(`unknown entity indicator '${indicator as string}'; expected tags or replacement`);
}
