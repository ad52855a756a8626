// Nx `runtime` input: one line naming every file (path, size, mtime) under the data roots the apps read
// (BIORE_DATA, corpora/ minus its committed README and presets, ../shared/data), so a changed dataset or
// text source changes the hash of every target that declares the `data` input. Data outside the
// workspace cannot be a file input, hence a command.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const roots = [process.env.BIORE_DATA, join(repo, 'corpora'), resolve(repo, '..', 'shared', 'data')].filter(Boolean);
const skip = new Set([join(repo, 'corpora', 'README.md'), join(repo, 'corpora', 'presets')]);
const h = createHash('sha256');
let files = 0;
function walk(root, dir) {
  let entries;
  try { entries = readdirSync(dir).sort(); } catch { return; }
  for (const e of entries) {
    const p = join(dir, e);
    if (skip.has(p)) continue;
    let s;
    try { s = statSync(p); } catch { continue; }
    if (s.isDirectory()) walk(root, p);
    else { h.update(`${relative(root, p)}\t${s.size}\t${Math.floor(s.mtimeMs)}\n`); files++; }
  }
}
for (const r of roots) {
  h.update(`root ${relative(repo, r)}\n`);
  if (existsSync(r)) walk(r, r);
}
console.log(`${files} files ${h.digest('hex')}`);
