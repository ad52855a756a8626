import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData, readJsonl, repoRoot } from '@biore/runtime';

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/elmo-lm/src', script), ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, BIORE_QUIET: '1' } });

test('pretrain on real PubMed abstracts writes a bilm-tf model whose token count comes from the corpus; embed reads it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elmo-cli-'));
  const out = join(dir, 'model');
  // the first 20 abstracts of the shared text, at a toy size: 3 steps
  const corpus = join(dir, 'corpus.txt');
  const lines = readFileSync(findData('text/pubmed/PubMedAbstract_1MB.txt').path, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 20);
  writeFileSync(corpus, lines.join('\n') + '\n');
  const r = run('pretrain.ts', ['--corpus', corpus, '--out', out, '--max-steps', '3', '--dim', '16', '--proj', '8', '--batch-size', '8', '--negatives', '50', '--checkpoint-every', '2']);
  assert.equal(r.status, 0, r.stderr);
  const metrics = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(metrics.heldoutPerplexity > 1 && metrics.unigramPerplexity > 1);
  assert.equal(metrics.steps, 3);
  const options = JSON.parse(readFileSync(join(out, 'options.json'), 'utf8'));
  assert.equal(options.n_train_tokens, metrics.trainTokens);
  assert.equal(options.lstm.dim, 16);
  const vocab = readFileSync(join(out, 'vocab.txt'), 'utf8').split('\n');
  assert.deepEqual(vocab.slice(0, 3), ['<S>', '</S>', '<UNK>']);
  assert.equal(options.n_tokens_vocab, vocab.filter(Boolean).length);
  assert.ok(existsSync(join(out, 'weights.hdf5')) && existsSync(`${out}.checkpoint/state.json`));

  const input = join(dir, 'sentences.txt');
  writeFileSync(input, 'Aspirin inhibits COX-2 .\n\nIL-6 levels rose\n');
  for (const how of [['--model', out], ['--options', join(out, 'options.json'), '--weights', join(out, 'weights.hdf5')]]) {
    const f = join(dir, `F-${how[0].slice(2)}.jsonl`);
    const e = run('embed.ts', [...how, '--input', input, '--out', f]);
    assert.equal(e.status, 0, e.stderr);
    const recs = readJsonl<{ tokens: string[]; layers: number[][][] }>(f);
    assert.deepEqual(recs.map((x) => x.tokens), [['Aspirin', 'inhibits', 'COX-2', '.'], [], ['IL-6', 'levels', 'rose']]);
    assert.equal(recs[0].layers.length, 3);
    assert.equal(recs[0].layers[2].length, 4);
    assert.equal(recs[0].layers[2][0].length, 16, 'forward ++ backward of projection_dim 8');
    assert.deepEqual(recs[0].layers[0][1].slice(0, 8), recs[0].layers[0][1].slice(8), 'the token layer is duplicated');
  }
});

test('embed with a malformed options.json fails with one clear line and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elmo-cli-'));
  writeFileSync(join(dir, 'in.txt'), 'a b\n');
  writeFileSync(join(dir, 'options.json'), '{}');
  const e = run('embed.ts', ['--options', join(dir, 'options.json'), '--weights', join(dir, 'nope.hdf5'), '--input', join(dir, 'in.txt'), '--out', join(dir, 'F.jsonl')]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /error: .*options.json: options '\(root\)'|error: .*options 'lstm' must be an object/);
  assert.ok(!existsSync(join(dir, 'F.jsonl')));
});

test('pretrain refuses an empty corpus, a second run over a checkpoint without --resume, and --resume without one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elmo-cli-bad-'));
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n\n');
  const e = run('pretrain.ts', ['--corpus', empty, '--out', join(dir, 'm')]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /empty\.txt: the corpus has no training text/);
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, readFileSync(findData('text/pubmed/PubMedAbstract_1MB.txt').path, 'utf8').split('\n').filter((l) => l.trim()).slice(0, 20).join('\n') + '\n');
  const small = ['--corpus', corpus, '--dim', '8', '--proj', '4', '--batch', '8', '--negatives', '20'];
  const none = run('pretrain.ts', [...small, '--out', join(dir, 'n'), '--resume']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /--resume: no checkpoint to resume from/);
  assert.equal(run('pretrain.ts', [...small, '--out', join(dir, 'm2'), '--max-steps', '2']).status, 0);
  const again = run('pretrain.ts', [...small, '--out', join(dir, 'm2'), '--max-steps', '4']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /holds a checkpoint of an earlier run: --resume to continue it, --force to start over/);
  const more = run('pretrain.ts', [...small, '--out', join(dir, 'm2'), '--max-steps', '4', '--resume']);
  assert.equal(more.status, 0, more.stderr);
  assert.equal(JSON.parse(more.stdout.trim().split('\n').pop()!).steps, 4);
});
