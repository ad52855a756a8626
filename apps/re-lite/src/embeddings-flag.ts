import { existsSync } from 'node:fs';
import { artifactDir, readJson, UserError } from '@biore/runtime';
import type { EmbedderSpec } from '@biore/embeddings';

/** Default artifact folders of the embeddings the pre-training apps write. */
export const EMBEDDING_DEFAULTS: Record<string, () => string> = {
  glove: () => artifactDir('glove'),
  cse: () => artifactDir('cse-lm'),
  elmo: () => artifactDir('elmo-lm'),
  bert: () => artifactDir('bert'),
};

/**
 * `--embeddings glove+cse+elmo` (members joined by '+', each found at its flag's folder or its default
 * artifact folder) or a path to a JSON embedder spec.
 */
export function embeddingSpec(value: string, paths: Record<string, string | undefined>, opts: { fineTuneGlove?: boolean } = {}): EmbedderSpec {
  if (value.endsWith('.json')) return readJson<EmbedderSpec>(value, 'embedding spec');
  const members = value.split('+').map((name) => {
    if (!EMBEDDING_DEFAULTS[name]) throw new UserError(`unknown embedding '${name}' in --embeddings; expected members of ${Object.keys(EMBEDDING_DEFAULTS).join(', ')} joined by '+'`);
    const path = paths[name] ?? EMBEDDING_DEFAULTS[name]();
    if (!existsSync(path)) throw new UserError(`no ${name} embeddings at ${path}: build them first (e.g. nx run ${name === 'glove' ? 'glove:build' : name === 'cse' ? 'cse-lm:pretrain' : name === 'elmo' ? 'elmo-lm:pretrain' : 're-bert:pretrain'}) or pass --${name} DIR`);
    return name === 'glove' && opts.fineTuneGlove ? { type: name, path, trainable: true } : { type: name, path };
  });
  return members.length === 1 ? members[0] : { type: 'stack', members };
}
