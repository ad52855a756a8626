// Runs one Nx project's tests with node's test runner through tsx: spec output on stdout, and a TAP copy
// in dist/test-results/ that test/run-all.mjs sums into the closing line CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node test/run-project.mjs <project folder>');
  process.exit(2);
}
const files = [];
(function walk(d) {
  let entries;
  try { entries = readdirSync(d); } catch { return; }
  for (const e of entries) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (e.endsWith('.test.ts')) files.push(p);
  }
})(join(dir, 'test'));
if (files.length === 0) {
  console.error(`${dir}: no test files under ${dir}/test`);
  process.exit(1);
}
files.sort();
mkdirSync('dist/test-results', { recursive: true });
const name = dir.replace(/[\\/]/g, '-');
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=dist/test-results/${name}.tap`,
  ...files,
], {
  stdio: 'inherit',
  // trainers the tests start run in one process unless a test asks for workers (the data-parallel tests do):
  // worker start-up costs seconds per command, and the tests compare runs bit for bit
  env: { ...process.env, BIORE_WORKERS: process.env.BIORE_WORKERS ?? '1' },
});
process.exit(r.status ?? 1);
