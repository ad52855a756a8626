import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData } from '@biore/runtime';

const tmp = mkdtempSync(join(tmpdir(), 're-bert-app-'));
function run(script: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `apps/re-bert/src/${script}.ts`, ...args], { encoding: 'utf8', env: { ...process.env, BIORE_QUIET: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').pop()!);

test('pretrain → encode → finetune → eval → predict → bench run end to end at a tiny size', () => {
  const bert = join(tmp, 'bert');
  const p = run('pretrain', ['--out', bert, '--corpus', findData('text/pubmed/PubMedAbstract_1MB.txt').path, '--max-lines', '40', '--vocab-size', '600', '--hidden', '16', '--layers', '1', '--heads', '2',
    '--intermediate', '32', '--seq-len', '32', '--steps', '3', '--batch', '4']);
  assert.equal(p.code, 0, p.stderr);
  const ps = lastJson(p.stdout);
  assert.equal(ps.steps, 3);
  for (const f of ['config.json', 'vocab.txt', 'model.safetensors']) assert.ok(existsSync(join(bert, f)), f);
  const vocabSize = readFileSync(join(bert, 'vocab.txt'), 'utf8').split('\n').filter(Boolean).length;
  assert.equal(vocabSize, 600);
  assert.equal(JSON.parse(readFileSync(join(bert, 'config.json'), 'utf8')).vocab_size, vocabSize);

  writeFileSync(join(tmp, 's.txt'), 'Aspirin inhibits COX-2.\nThe kinase binds ATP.\n');
  const e = run('encode', ['--model', bert, '--input', join(tmp, 's.txt'), '--layers', 'all', '--out', join(tmp, 'e.jsonl')]);
  assert.equal(e.code, 0, e.stderr);
  const rows = readFileSync(join(tmp, 'e.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 2);
  // the layout of every embed/encode command: tokens (here word pieces), then one vector per token and layer
  assert.deepEqual(rows[0].layerIds, [0, 1]);
  assert.equal(rows[0].layers.length, 2);
  assert.equal(rows[0].layers[1].length, rows[0].tokens.length);
  assert.equal(rows[0].layers[1][0].length, 16);

  const run1 = join(tmp, 'ft');
  const ft = run('finetune', ['--model', bert, '--head', 'cls+att_ll', '--dataset', 'chemprot', '--max-train', '16', '--max-eval', '16',
    '--epochs', '1', '--batch', '8', '--lr', '1e-4', '--max-length', '32', '--out', run1]);
  assert.equal(ft.code, 0, ft.stderr);
  const fs = lastJson(ft.stdout);
  assert.equal(fs.head, 'cls+att_ll');
  assert.ok(fs.f1 >= 0 && fs.f1 <= 1 && fs.testInstances === 16);

  const ev = run('eval', ['--model', run1, '--dataset', 'chemprot', '--split', 'dev', '--limit', '8']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(lastJson(ev.stdout).instances, 8);

  writeFileSync(join(tmp, 'in.jsonl'), '{"text": "<chem>Aspirin</chem> inhibits <gene>COX-2</gene>."}\n');
  const pr = run('predict', ['--model', run1, '--input', join(tmp, 'in.jsonl')]);
  assert.equal(pr.code, 0, pr.stderr);
  const pred = lastJson(pr.stdout);
  assert.deepEqual(pred.attention.map((a: { word: string }) => a.word), ['@CHEMICAL$', 'inhibits', '@GENE$', '.']);
  assert.ok(Math.abs(pred.attention.reduce((s: number, a: { weight: number }) => s + a.weight, 0) - 1) < 1e-4);

  const b = run('bench', ['--model', bert, '--seconds', '0.2', '--max-length', '16']);
  assert.equal(b.code, 0, b.stderr);
  const bj = lastJson(b.stdout);
  assert.deepEqual(bj.results.map((r: { batch: number }) => r.batch), [1, 32]);
  assert.ok(bj.results.every((r: { msPerSample: number }) => r.msPerSample > 0) && bj.peakRssMB > 0);
});

test('bad flags and inputs end in one clear line', () => {
  const h = run('finetune', ['--head', 'cls+foo']);
  assert.equal(h.code, 1);
  assert.match(h.stderr, /--head must be one of cls, cls\+att_ll/);
  const m = run('encode', ['--model', join(tmp, 'nope'), '--input', join(tmp, 'nope.txt'), '--out', join(tmp, 'x.jsonl')]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /input file not found/);
});
