import { existsSync, readFileSync, statSync } from 'node:fs';
import { UserError } from '@biore/runtime';

export interface TsvRow {
  /** 1-based line number in the file. */
  line: number;
  cols: string[];
}

export function requireDir(path: string, what: string): void {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new UserError(`${what} folder not found`, { file: path });
}

export function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  return readFileSync(path, 'utf8');
}

/**
 * Reads a tab-separated file whose every non-empty line has exactly `columns` columns
 * (a wrong count is a UserError naming file and line). Skips `skipHeader` leading lines.
 */
export function readTsv(path: string, columns: number, what: string, skipHeader = 0): TsvRow[] {
  const text = readText(path, what);
  const lines = text.split('\n');
  const rows: TsvRow[] = [];
  for (let i = skipHeader; i < lines.length; i++) {
    const raw = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (raw.trim() === '') continue;
    const cols = raw.split('\t');
    if (cols.length !== columns) {
      throw new UserError(`expected ${columns} tab-separated columns, found ${cols.length}`, { file: path, record: `line ${i + 1}` });
    }
    rows.push({ line: i + 1, cols });
  }
  return rows;
}

/** A non-negative integer field, else a UserError naming file, line and field. */
export function intField(v: string, path: string, line: number, field: string): number {
  if (!/^\d+$/.test(v)) throw new UserError(`${field} must be a non-negative integer, got ${JSON.stringify(v)}`, { file: path, record: `line ${line}` });
  return Number(v);
}
