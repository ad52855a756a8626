// The Nx project graph comes from the workspace packages' package.json dependencies: an import of a workspace
// package that its package.json does not list is an edge Nx cannot see (nx affected would miss it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

function files(d: string, out: string[] = []): string[] {
  if (!existsSync(d)) return out;
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|mts|mjs|js)$/.test(e)) out.push(p);
  }
  return out;
}

test('every workspace package lists the @biore packages it imports, so nx graph has every edge', () => {
  const missing: string[] = [];
  let projects = 0;
  for (const group of ['libs', 'apps']) {
    for (const name of readdirSync(join(REPO, group))) {
      const dir = join(REPO, group, name);
      const pj = join(dir, 'package.json');
      if (!existsSync(pj)) continue;
      projects++;
      const pkg = JSON.parse(readFileSync(pj, 'utf8'));
      const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
      for (const sub of ['src', 'bench', 'test']) {
        for (const f of files(join(dir, sub))) {
          for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(@biore\/[a-z0-9-]+)/g)) {
            if (m[1] !== pkg.name && !declared.has(m[1])) missing.push(`${group}/${name}/package.json lacks ${m[1]} (imported by ${f.slice(REPO.length + 1)})`);
          }
        }
      }
    }
  }
  assert.ok(projects >= 20);
  assert.deepEqual([...new Set(missing)], []);
});
