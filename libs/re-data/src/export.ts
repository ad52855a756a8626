import { UserError } from '@biore/runtime';
import type { EntityIndicator, RelationInstance } from './types.ts';
import { applyIndicator } from './indicators.ts';

/**
 * The BLUE/BioBERT TSV layout: header `index<TAB>sentence<TAB>label`, then one instance a line with its id,
 * its indicator-marked tokens joined by single spaces, and its label.
 */
export function toBlueTsv(instances: RelationInstance[], indicator: EntityIndicator): string {
  const lines = ['index\tsentence\tlabel'];
  for (const inst of instances) {
    const sentence = applyIndicator(inst, indicator).join(' ');
    for (const [what, v] of [['id', inst.id], ['sentence', sentence], ['label', inst.label]] as const) {
      if (/[\t\n\r]/.test(v)) throw new UserError(`instance ${inst.id}: its ${what} contains a tab or line break, which the TSV layout cannot hold`);
    }
    lines.push(`${inst.id}\t${sentence}\t${inst.label}`);
  }
  return lines.join('\n') + '\n';
}
