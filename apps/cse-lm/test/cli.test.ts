import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData, repoRoot } from '@biore/runtime';

const tiny = ['--hidden', '12', '--embedding-size', '8', '--seq-len', '20', '--batch', '4', '--epochs', '1', '--no-case-flip'];

function run(script: string, args: string[], opts: { onStderr?: (s: string, kill: (sig: NodeJS.Signals) => void) => void } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps', 'cse-lm', 'src', script), ...args], { cwd: repoRoot, env: { ...process.env, BIORE_QUIET: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; opts.onStderr?.(stderr, (sig) => child.kill(sig)); });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function smallCorpus(): string {
  const docs = readFileSync(join(findData('text').path, 'pubmed', 'PubMedAbstract_1MB.txt'), 'utf8').split('\n').filter(Boolean).slice(0, 16).map((d) => d.slice(0, 300));
  const root = mkdtempSync(join(tmpdir(), 'cse-cli-corpus-'));
  mkdirSync(join(root, 'train'));
  writeFileSync(join(root, 'train', 'part1.txt'), docs.slice(0, 12).join('\n') + '\n');
  writeFileSync(join(root, 'valid.txt'), docs.slice(12, 14).join('\n') + '\n');
  writeFileSync(join(root, 'test.txt'), docs.slice(14).join('\n') + '\n');
  return root;
}

test('pretrain trains both LMs, prints LM and bigram bits/char, and embed / generate use the saved LMs', async () => {
  const corpus = smallCorpus();
  const out = mkdtempSync(join(tmpdir(), 'cse-cli-out-'));
  const r = await run('pretrain.ts', ['--corpus', corpus, '--out', out, ...tiny]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.results.map((x: { direction: string }) => x.direction), ['forward', 'backward']);
  for (const x of summary.results) {
    assert.ok(x.lm.testBitsPerChar > 0 && x.bigram.testBitsPerChar > 0);
    assert.ok(existsSync(join(out, x.direction, 'config.json')) && existsSync(join(out, x.direction, 'dictionary.json')));
  }
  assert.match(r.stderr, /forward: held-out test bits\/char\s+LM [\d.]+\s+vs\s+bigram [\d.]+/);
  assert.match(r.stderr, /backend: \w+/);
  const sentences = join(out, 'sentences.txt');
  writeFileSync(sentences, 'IL-2 binds   the receptor.\nA 𝛼-helix (short).\n');
  const vectors = join(out, 'vectors.jsonl');
  const e = await run('embed.ts', ['--input', sentences, '--out', vectors, '--forward', join(out, 'forward'), '--backward', join(out, 'backward')]);
  assert.equal(e.code, 0, e.stderr);
  const rows = readFileSync(vectors, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0].tokens, ['IL-2', 'binds', 'the', 'receptor', '.']);
  assert.equal(rows[1].tokens[1], '𝛼-helix');
  // the layout of every embed/encode command: {line, tokens, layers}, here one layer of forward ++ backward states
  assert.deepEqual(rows.map((row) => row.line), [1, 2]);
  assert.ok(rows.every((row) => row.layers.length === 1 && row.layers[0].length === row.tokens.length && row.layers[0].every((v: number[]) => v.length === 24)));
  const g = await run('generate.ts', ['--model', join(out, 'backward'), '--length', '30', '--prefix', 'the']);
  assert.equal(g.code, 0, g.stderr);
  assert.ok(g.stdout.trim().endsWith('the'), 'a backward LM generates the text before the prefix');
});

test('SIGTERM mid-training leaves a checkpoint, exits 143, and --resume finishes the run', async () => {
  const corpus = smallCorpus();
  const out = mkdtempSync(join(tmpdir(), 'cse-cli-sig-'));
  let sent = false;
  const r = await run('pretrain.ts', ['--corpus', corpus, '--out', out, '--direction', 'forward', ...tiny, '--epochs', '50'], {
    onStderr: (s, kill) => { if (!sent && /epoch 1: valid loss/.test(s)) { sent = true; kill('SIGTERM'); } },
  });
  assert.ok(sent, r.stderr);
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /stopped by SIGTERM: forward training state saved in .*forward\.checkpoint; continue with --resume/);
  const state = JSON.parse(readFileSync(join(out, 'forward.checkpoint', 'state.json'), 'utf8'));
  assert.equal(state.finished, false);
  const again = await run('pretrain.ts', ['--corpus', corpus, '--out', out, '--direction', 'forward', ...tiny, '--epochs', String(state.epoch + 1), '--resume']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resuming at epoch/);
});

test('an empty corpus and a missing checkpoint are one-line errors', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'cse-cli-empty-'));
  mkdirSync(join(empty, 'train'));
  const r = await run('pretrain.ts', ['--corpus', empty, '--out', join(empty, 'out'), ...tiny]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: .*empty corpus/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const c = await run('pretrain.ts', ['--corpus', smallCorpus(), '--out', join(empty, 'none'), '--resume', ...tiny]);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /--resume: no checkpoint to resume from/);
});
