import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@biore/runtime';
import { readGloveArtifact } from '@biore/glove';

const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const run = (script: string, args: string[]) =>
  spawnSync(tsx, [join(repoRoot, 'apps', 'glove', 'src', script), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, BIORE_QUIET: '1' } });

test('glove:import converts a published-format .txt into the lookup folder and prints one JSON line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glove-cli-'));
  try {
    writeFileSync(join(dir, 'g.txt'), 'the 0.1 0.2\nbrca1 -1 2.5\n');
    const r = run('import.ts', ['--input', join(dir, 'g.txt'), '--out', join(dir, 'out')]);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim());
    assert.deepEqual({ vocabSize: summary.vocabSize, dim: summary.dim, lowercase: summary.lowercase }, { vocabSize: 2, dim: 2, lowercase: true });
    const a = readGloveArtifact(join(dir, 'out'));
    assert.deepEqual(a.words, ['the', 'brca1']);
    assert.deepEqual(Array.from(a.matrix), Array.from(new Float32Array([0.1, 0.2, -1, 2.5])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncated .txt ends glove:import with one error line naming the file and line, exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glove-cli-'));
  try {
    writeFileSync(join(dir, 'bad.txt'), 'the 0.1 0.2 0.3\nof 0.4');
    const r = run('import.ts', ['--input', join(dir, 'bad.txt'), '--out', join(dir, 'out')]);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^error: .*bad\.txt, record line 2: truncated file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('glove:build on a --corpus folder writes the artifact; an unknown flag is a one-line error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'glove-cli-'));
  try {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) lines.push(`the protein ${i % 7} binds the receptor and the ligand ${i % 5} inhibits the kinase`);
    writeFileSync(join(dir, 'a.txt'), lines.join('\n') + '\n');
    const r = run('build.ts', ['--corpus', dir, '--out', join(dir, 'out'), '--dim', '5', '--iterations', '2', '--threads', '1', '--min-count', '2', '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim());
    assert.equal(summary.iterations, 2);
    assert.equal(readGloveArtifact(join(dir, 'out')).dim, 5);
    const bad = run('build.ts', ['--dims', '5']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.trim(), /^error: unknown flag '--dims' for glove:build; did you mean --dim\?/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
