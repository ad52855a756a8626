import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from './errors.ts';

/** Appends one JSON object per line: the metrics log of a run. Each line is written whole. */
export class JsonlWriter {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}

/** Reads a JSON-lines file; a malformed line is a UserError naming the file and line number. */
export function readJsonl<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) throw new UserError('JSON-lines file not found', { file: path });
  const out: T[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch (e) {
      throw new UserError(`malformed JSON (${(e as Error).message})`, { file: path, record: `line ${i + 1}` });
    }
  }
  return out;
}
