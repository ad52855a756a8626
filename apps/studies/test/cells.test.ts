import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CellCache } from '../src/cache.ts';
import { applyOverride, canonical, cellKeys, closureInOrder, inShard, parseShard, type CellDef, type Matrix } from '../src/cells.ts';
import type { Executor } from '../src/executors.ts';
import { runCells, shardCells } from '../src/runner.ts';
import { budget } from '../src/budgets.ts';
import { buildStudy } from '../src/study.ts';
import { openSession } from '../src/session.ts';

/** A small matrix in the study's shape: a corpus, two pre-trainings on it, RE cells on each, an analysis on one. */
function toyMatrix(): Matrix {
  const cells = new Map<string, CellDef>();
  const add = (c: CellDef) => cells.set(c.id, c);
  add({ id: 'corpus', kind: 'corpus', params: { preset: 'pubmed' }, deps: {} });
  add({ id: 'pretrain/a', kind: 'glove', params: { corpus: { $dep: 'corpus' }, dim: 4 }, deps: { corpus: 'corpus' } });
  add({ id: 'pretrain/b', kind: 'cse', params: { corpus: { $dep: 'corpus' }, hidden: 4 }, deps: { corpus: 'corpus' } });
  for (let k = 1; k <= 6; k++) {
    add({ id: `re/a/${k}`, kind: 're', params: { fold: k, vectors: { $dep: 'v', path: 'vectors.bin' } }, deps: { v: 'pretrain/a' } });
    add({ id: `re/b/${k}`, kind: 're', params: { fold: k, lm: { $dep: 'lm' } }, deps: { lm: 'pretrain/b' } });
  }
  add({ id: 'attention/a/1', kind: 'attention', params: { limit: 3 }, deps: { model: 're/a/1' } });
  return { cells };
}
const code = () => 'code-v1';

/** Executors that write a file into out/, check their dependency paths exist, and count calls. */
function fakeExecutors(calls: string[], delayMs = 0): Record<string, Executor> {
  const ex: Executor = async (cell, ctx) => {
    calls.push(cell.id);
    for (const v of Object.values(ctx.params)) if (typeof v === 'string' && v.includes('/cells/')) assert.ok(existsSync(v.replace(/\/vectors\.bin$/, '')), `${cell.id}: dependency output ${v} exists`);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    writeFileSync(join(ctx.out, 'artifact.txt'), canonical(ctx.params));
    return { value: canonical(cell.params).length };
  };
  return { corpus: ex, glove: ex, cse: ex, re: ex, attention: ex };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'biore-studies-'));

test('a cell key is a hash of its spec and its dependencies: changing one option changes that cell and what depends on it, nothing else', () => {
  const m = toyMatrix();
  const before = cellKeys(m, code);
  assert.equal(before.size, m.cells.size);
  assert.deepEqual(cellKeys(toyMatrix(), code), before, 'stable across builds');
  for (const k of before.values()) assert.match(k, /^[0-9a-f]{16}$/);
  const hit = applyOverride(m, 'pretrain/b:hidden=8');
  assert.deepEqual(hit, ['pretrain/b']);
  const after = cellKeys(m, code);
  const changed = [...before.keys()].filter((id) => before.get(id) !== after.get(id)).sort();
  assert.deepEqual(changed, ['pretrain/b', ...[1, 2, 3, 4, 5, 6].map((k) => `re/b/${k}`)].sort());
  // the code a kind runs is part of its key
  const other = cellKeys(toyMatrix(), (kind) => (kind === 'attention' ? 'code-v2' : 'code-v1'));
  assert.deepEqual([...before.keys()].filter((id) => before.get(id) !== other.get(id)), ['attention/a/1']);
});

test('--set rejects a glob that matches no cell and a path that does not exist', () => {
  assert.throws(() => applyOverride(toyMatrix(), 'nothing/*:x=1'), /no cell id matches/);
  assert.throws(() => applyOverride(toyMatrix(), 're/a/1:vectors.deep.x=1'), /no object param/);
  const m = toyMatrix();
  assert.equal(applyOverride(m, 're/a/*:fold=0').length, 6);
});

test('shards are disjoint, cover every cell, and agree between processes (a function of the key alone)', () => {
  const m = toyMatrix();
  const keys = cellKeys(m, code);
  const all = closureInOrder(m, m.cells.keys());
  for (const n of [1, 2, 3, 7]) {
    const parts = Array.from({ length: n }, (_, i) => shardCells(m, keys, m.cells.keys(), { index: i + 1, count: n }));
    assert.deepEqual(parts.flat().sort(), [...all].sort(), `${n} shards cover the matrix`);
    assert.equal(new Set(parts.flat()).size, all.length, `${n} shards are disjoint`);
  }
  assert.equal(inShard('00000003ffffffff', 2, 2), true);
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  assert.throws(() => parseShard('0/2'), /1 ≤ i ≤ n/);
  assert.throws(() => parseShard('3/2'));
  assert.throws(() => parseShard('x'));
});

test('dependencies come before the cells that need them', () => {
  const m = toyMatrix();
  const order = closureInOrder(m, ['attention/a/1', 're/b/3']);
  assert.deepEqual(order, ['corpus', 'pretrain/a', 're/a/1', 'attention/a/1', 'pretrain/b', 're/b/3']);
});

test('a rerun computes nothing; after one option changes it computes only the cells whose spec changed', async () => {
  const dir = tmp();
  try {
    const m = toyMatrix();
    const calls: string[] = [];
    const cache = new CellCache(dir);
    const first = await runCells({ matrix: m, keys: cellKeys(m, code), cache, targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls) });
    assert.equal(first.computed.length, m.cells.size);
    assert.equal(calls.length, m.cells.size, 'each cell once');
    const again = await runCells({ matrix: m, keys: cellKeys(m, code), cache, targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls) });
    assert.deepEqual(again.computed, []);
    assert.equal(again.cached.length, m.cells.size);
    applyOverride(m, 're/a/4:fold=40');
    const third = await runCells({ matrix: m, keys: cellKeys(m, code), cache, targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls) });
    assert.deepEqual(third.computed, ['re/a/4']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a killed study continues where it stopped: an interrupted cell is redone, finished ones are not', async () => {
  const dir = tmp();
  try {
    const m = toyMatrix();
    const keys = cellKeys(m, code);
    const cache = new CellCache(dir);
    const calls: string[] = [];
    const part = await runCells({ matrix: m, keys, cache, targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls), maxCells: 5 });
    assert.equal(part.computed.length, 5);
    // a cell that was killed half-way: its folder exists without result.json
    const next = closureInOrder(m, m.cells.keys()).find((id) => !cache.has(keys.get(id)!))!;
    mkdirSync(join(cache.out(keys.get(next)!)), { recursive: true });
    writeFileSync(join(cache.out(keys.get(next)!), 'partial.bin'), 'half');
    const rest = await runCells({ matrix: m, keys, cache, targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls) });
    assert.equal(rest.computed.length, m.cells.size - 5);
    assert.ok(rest.computed.includes(next));
    assert.equal(existsSync(join(cache.out(keys.get(next)!), 'partial.bin')), false, 'the partial output was cleared');
    assert.equal(new Set(calls).size, calls.length, 'no cell computed twice');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two shards running at once into one cache compute every cell exactly once', async () => {
  const dir = tmp();
  try {
    const m = toyMatrix();
    const keys = cellKeys(m, code);
    const calls: string[] = [];
    const run = (index: number) => runCells({ matrix: m, keys, cache: new CellCache(dir), targets: m.cells.keys(), shard: { index, count: 2 }, executors: fakeExecutors(calls, 20) });
    const [a, b] = await Promise.all([run(1), run(2)]);
    assert.equal(a.owned.filter((x) => b.owned.includes(x)).length, 0, 'disjoint');
    assert.equal(calls.length, m.cells.size, 'every cell once, dependencies included');
    assert.equal(new Set(calls).size, m.cells.size);
    const cache = new CellCache(dir);
    for (const k of keys.values()) assert.ok(cache.has(k));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('workers over the same cells (studies --workers N) share them through the locks: each cell once, both busy', async () => {
  const dir = tmp();
  try {
    const m = toyMatrix();
    const keys = cellKeys(m, code);
    const calls: string[] = [];
    // cells of 300 ms against the runner's 500 ms poll: the second worker finds the corpus done while the first is
    // still on its next cell, and takes another (with a 20 ms cell the first could finish the toy matrix alone)
    const run = () => runCells({ matrix: m, keys, cache: new CellCache(dir), targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: fakeExecutors(calls, 300) });
    const [a, b] = await Promise.all([run(), run()]);
    assert.equal(calls.length, m.cells.size, 'every cell once');
    assert.equal(new Set(calls).size, m.cells.size);
    assert.deepEqual([...a.computed, ...b.computed].sort(), [...m.cells.keys()].sort());
    assert.ok(a.computed.length > 0 && b.computed.length > 0, `both workers computed cells (${a.computed.length} + ${b.computed.length})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--cells keeps the chosen tables\' cells whose ids match a glob; a glob matching none is an error', () => {
  const s = openSession({ budget: 'smoke', tables: 'hiai-table2', cells: 're/chemprot/*', cache: tmp() });
  assert.deepEqual(s.targets.sort(), ['re/chemprot/replacement/bert-cls', ...['glove', 'glove+cse', 'glove+cse+elmo', 'glove+elmo'].map((x) => `re/chemprot/tags/${x}`)].sort());
  const two = openSession({ budget: 'smoke', tables: 'hiai-table2', cells: 're/gad/fold1/*,re/gad/fold2/*', cache: tmp() });
  assert.equal(two.targets.length, 10, 'five models on each of two folds');
  assert.throws(() => openSession({ budget: 'smoke', tables: 'hiai-table2', cells: 're/ddi/*', cache: tmp() }), /--cells: no cell of hiai-table2 matches 're\/ddi\/\*'/);
});

test('a lock left by a dead process is taken over; a live one is respected', () => {
  const dir = tmp();
  try {
    const c = new CellCache(dir);
    assert.equal(c.tryLock('k1'), true);
    assert.equal(new CellCache(dir).tryLock('k1'), false, 'held by this live process');
    c.unlock('k1');
    mkdirSync(join(dir, 'locks', 'k2'));
    writeFileSync(join(dir, 'locks', 'k2', 'owner.json'), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 12345 }));
    assert.equal(c.tryLock('k2'), true, 'the dead holder\'s lock is stale');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test('the study matrix: every table\'s cells exist, shared specs are one cell, and the budgets differ where the papers say', () => {
  const s = buildStudy(budget('smoke'));
  for (const t of s.tables) for (const id of t.cells) assert.ok(s.matrix.cells.has(id), `${t.id}: ${id}`);
  const t2 = s.tables.find((t) => t.id === 'hiai-table2')!;
  assert.equal(t2.cells.length, 5 * 11, 'four stacks and BERT on ChemProt and ten GAD folds');
  const t4 = s.tables.find((t) => t.id === 'hiai-table4')!;
  assert.ok(t2.cells.includes('re/chemprot/tags/glove+cse+elmo') && t4.cells.includes('re/chemprot/tags/glove+cse+elmo'), 'Table 4\'s last row is Table 2\'s Proposed3');
  const su = s.tables.find((t) => t.id === 'su-table3')!;
  assert.equal(su.cells.filter((id) => id.startsWith('re/aimed/')).length, 3 * 10);
  const paper = budget('paper');
  assert.deepEqual([paper.bert.lr, paper.bert.batch, paper.bert.epochs, paper.bert.maxLength], [2e-5, 32, 10, 128], 'Su\'s fine-tuning');
  assert.deepEqual([paper.lite.batch, paper.lite.hidden, paper.lite.optimizer, paper.lite.lr], [32, 256, 'sgd', 0.1], 'Hiai\'s training');
  assert.throws(() => budget('huge'), /unknown budget/);
  const keys = cellKeys(s.matrix, code);
  assert.equal(new Set(keys.values()).size, s.matrix.cells.size, 'distinct specs, distinct keys');
});

test('a failing cell costs only itself and the cells that need it; a later run retries it', async () => {
  const dir = tmp();
  try {
    const m = toyMatrix();
    const keys = cellKeys(m, code);
    const calls: string[] = [];
    const ex = fakeExecutors(calls);
    const broken = { ...ex, glove: async () => { throw new Error('out of disk'); } };
    const r = await runCells({ matrix: m, keys, cache: new CellCache(dir), targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: broken });
    assert.equal(r.failed['pretrain/a'], 'out of disk');
    for (let k = 1; k <= 6; k++) assert.ok(r.failed[`re/a/${k}`], `re/a/${k} is reported`);
    assert.ok(r.failed['attention/a/1']);
    assert.deepEqual(r.computed.sort(), ['corpus', 'pretrain/b', ...[1, 2, 3, 4, 5, 6].map((k) => `re/b/${k}`)].sort());
    const again = await runCells({ matrix: m, keys, cache: new CellCache(dir), targets: m.cells.keys(), shard: { index: 1, count: 1 }, executors: ex });
    assert.deepEqual(again.failed, {});
    assert.equal(again.computed.length, 8, 'the failed cell and the seven needing it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
