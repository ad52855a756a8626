import { existsSync } from 'node:fs';
import { readJson, UserError } from '@biore/runtime';
import { embedderTypeInfo, memberTypes, type EmbedderSpec } from './embedder.ts';

/**
 * `--embeddings glove+cse+elmo` (members joined by '+', each found at its flag's folder or its type's default
 * artifact folder) or a path to a JSON embedder spec. Each type's defaults and build hint come from its registration.
 */
export function embeddingSpec(value: string, paths: Record<string, string | undefined> = {}, opts: Record<string, Record<string, unknown>> = {}): EmbedderSpec {
  if (value.endsWith('.json')) return readJson<EmbedderSpec>(value, 'embedding spec');
  const members = value.split('+').map((name) => {
    const info = embedderTypeInfo(name);
    if (!info?.defaultPath) throw new UserError(`unknown embedding '${name}' in --embeddings; expected members of ${memberTypes().join(', ')} joined by '+'`);
    const path = paths[name] ?? info.defaultPath();
    if (!existsSync(path)) throw new UserError(`no ${name} embeddings at ${path}: build them first (${info.buildHint ?? 'see the README'}) or pass --${name} DIR`);
    return { type: name, path, ...info.defaults, ...opts[name] } as EmbedderSpec;
  });
  return members.length === 1 ? members[0] : { type: 'stack', members };
}
