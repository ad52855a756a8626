import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonAtomic } from '@biore/runtime';

/**
 * Each stage's output `X` has a small `X.stage.json` beside it holding the hash of everything that
 * determined it (its input stage's key, the options). A stage is skipped when its output exists and the
 * hash matches; any change upstream changes every key downstream.
 */
export function stageKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export function stageUpToDate(output: string, key: string): boolean {
  const meta = output + '.stage.json';
  if (!existsSync(output) || !existsSync(meta)) return false;
  try {
    return (JSON.parse(readFileSync(meta, 'utf8')) as { key?: string }).key === key;
  } catch {
    return false;
  }
}

export function markStageDone(output: string, key: string, info: Record<string, unknown> = {}): void {
  writeJsonAtomic(output + '.stage.json', { key, ...info, finished: new Date().toISOString() });
}
