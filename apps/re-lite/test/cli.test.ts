import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@biore/runtime';
import { tinyGlove } from './fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'biore-re-lite-'));
const gloveDir = join(tmp, 'glove');
const runDir = join(tmp, 'run');

function cli(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/re-lite/src', script), ...args], {
    cwd: repoRoot, encoding: 'utf8', env: { ...process.env, BIORE_QUIET: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => tinyGlove(tmp, gloveDir));

test('train runs end to end on real ChemProt at a tiny size and ends with a JSON line of test P/R/F1', () => {
  const r = cli('train.ts', ['--glove', gloveDir, '--max-train', '96', '--max-eval', '64', '--epochs', '1', '--hidden', '8', '--out', runDir]);
  assert.equal(r.code, 0, r.err);
  const last = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(last.dataset, 'chemprot');
  for (const k of ['precision', 'recall', 'f1']) assert.ok(last[k] >= 0 && last[k] <= 1, `${k} = ${last[k]}`);
  assert.deepEqual(Object.keys(last.perClass).sort(), ['CPR:3', 'CPR:4', 'CPR:5', 'CPR:6', 'CPR:9']);
  assert.match(r.err, /backend: (wasm|tensorflow|cpu)/);
  assert.ok(existsSync(join(runDir, 'best', 'model.safetensors')) && existsSync(join(runDir, 'test-scores.json')));
});

test('eval scores a trained model on a split', () => {
  const r = cli('eval.ts', ['--model', runDir, '--split', 'dev', '--limit', '50']);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out.trim());
  assert.equal(s.n, 50);
  assert.equal(s.confusion.labels.length, 6);
});

test('predict writes a label, probabilities over every label and one attention weight per word', () => {
  const input = join(tmp, 'in.jsonl'), out = join(tmp, 'pred.jsonl');
  writeFileSync(input, [
    JSON.stringify({ id: 'a', text: 'Aspirin irreversibly inhibits <gene>COX-1</gene> and <chem>celecoxib</chem> does not.' }),
    JSON.stringify({ id: 'b', text: 'Tamoxifen binds the estrogen receptor.', e1: { start: 0, end: 9, type: 'CHEMICAL' }, e2: { start: 21, end: 38, type: 'GENE' } }),
  ].join('\n') + '\n');
  const r = cli('predict.ts', ['--model', runDir, '--input', input, '--out', out]);
  assert.equal(r.code, 0, r.err);
  const preds = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(preds.map((p) => p.id), ['a', 'b']);
  for (const p of preds) {
    const total = Object.values(p.probabilities as Record<string, number>).reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(total - 1) < 1e-4);
    assert.equal(Object.keys(p.probabilities).length, 6);
    const att = (p.attention as { weight: number }[]).reduce((s, a) => s + a.weight, 0);
    assert.ok(Math.abs(att - 1) < 1e-3, `attention sums to ${att}`);
  }
  assert.ok(preds[1].attention.some((a: { word: string }) => a.word === '<chem>'));
});

test('bad inputs end in one clear line naming what is wrong', () => {
  const bad = join(tmp, 'bad.jsonl');
  writeFileSync(bad, '{"text": "fine <chem>a</chem> <gene>b</gene>"}\n{not json\n');
  const cases: [string, string[], RegExp][] = [
    ['predict.ts', ['--model', runDir, '--input', bad], /bad\.jsonl, record line 2: malformed JSON/],
    ['train.ts', ['--data', join(tmp, 'no-such-root'), '--glove', gloveDir], /dataset folder 'chemprot' not found/],
    ['train.ts', ['--dataset', 'gad', '--fold', '1', '--indicator', 'tags', '--glove', gloveDir], /gad supports only the replacement indicator/],
    ['train.ts', ['--glove', join(tmp, 'missing')], /no glove embeddings at/],
    ['train.ts', ['--dataset', 'semeval'], /--dataset must be one of chemprot, ddi, gad, aimed, got 'semeval'/],
    ['eval.ts', ['--model', join(tmp, 'nothing')], /artifact folder not found/],
  ];
  for (const [script, args, expected] of cases) {
    const r = cli(script, args);
    assert.equal(r.code, 1, `${script} ${args.join(' ')}: ${r.err}`);
    assert.match(r.err, expected);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});
