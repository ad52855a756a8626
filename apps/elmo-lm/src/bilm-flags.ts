import { UserError } from '@biore/runtime';
import { loadBilm, loadBilmHdf5, type BidirectionalLM } from '@biore/elmo';

/** Where a biLM comes from: a folder trained here (--model), or a published bilm-tf pair (--options + --weights). */
export const BILM_FLAGS = {
  model: { type: 'string', placeholder: 'DIR', description: 'a biLM folder written by elmo-lm:pretrain' },
  options: { type: 'string', placeholder: 'FILE', description: 'a published biLM\'s options.json (with --weights)' },
  weights: { type: 'string', placeholder: 'FILE', description: 'a published biLM\'s weights.hdf5 (with --options)' },
} as const;

/** The biLM the flags name, or undefined when they name none; half a published pair is a UserError. */
export async function bilmFromFlags(f: { model?: string; options?: string; weights?: string }): Promise<{ bilm: BidirectionalLM; source: string } | undefined> {
  if (f.model) {
    if (f.options || f.weights) throw new UserError('give --model DIR, or --options with --weights, not both');
    return { bilm: loadBilm(f.model).model, source: f.model };
  }
  if (!f.options !== !f.weights) throw new UserError('--options and --weights go together (a published biLM is the two files)');
  return f.options && f.weights ? { bilm: await loadBilmHdf5(f.options, f.weights), source: f.weights } : undefined;
}
