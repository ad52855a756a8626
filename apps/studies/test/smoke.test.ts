// The whole matrix at the smoke budget, for real: two disjoint shards into one cache folder, the report from
// it in headless Chromium, a rerun that computes nothing, one changed option that computes one cell, a
// single-process run of a table that gives the same cells and the same table as the shards did, and
// `nx run studies:report` served from the Nx cache the second time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CellCache } from '../src/cache.ts';
import { openSession } from '../src/session.ts';
import { ensureChromium, inspectPage } from './chromium.ts';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const WORK = join(REPO, 'tmp', `studies-test-${process.pid}`);
const A = join(WORK, 'shared-cache');
const B = join(WORK, 'single-cache');
const CLI = 'apps/studies/src/cli.ts';

interface Summary { owned: string[]; computed: string[]; cached: string[]; cells: number; seconds: number }

function cli(args: string[]): Promise<{ code: number; json: any; stderr: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => {
      let json: any;
      try { json = JSON.parse(out.trim().split('\n').pop()!); } catch { json = undefined; }
      res({ code: code ?? 1, json, stderr: err, seconds: (performance.now() - t0) / 1000 });
    });
  });
}
const ok = (r: Awaited<ReturnType<typeof cli>>) => assert.equal(r.code, 0, r.stderr.split('\n').filter((l) => !/already registered/.test(l)).slice(-30).join('\n'));

let shards: Summary[] = [];
let shardSeconds = 0;

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  // one code fingerprint for every run of this test (others may edit the checkout while it runs; CI's does not change)
  process.env.BIORE_STUDY_CODE_SNAPSHOT = join(WORK, 'code-fingerprints.json');
  const t0 = performance.now();
  const rs = await Promise.all([1, 2].map((i) => cli(['run', '--budget', 'smoke', '--shard', `${i}/2`, '--cache', A])));
  for (const r of rs) ok(r);
  shards = rs.map((r) => r.json as Summary);
  shardSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`smoke study as two shards: ${shardSeconds.toFixed(0)} s, ${shards.map((s) => s.computed.length).join(' + ')} cells computed\n`);
});

after(() => {
  rmSync(WORK, { recursive: true, force: true });
});

test('two shards own disjoint cells that together are the whole matrix, and every cell got a result', () => {
  const s = openSession({ budget: 'smoke', cache: A });
  const [a, b] = shards;
  assert.equal(a.owned.filter((id) => b.owned.includes(id)).length, 0, 'disjoint');
  assert.deepEqual([...a.owned, ...b.owned].sort(), [...s.study.matrix.cells.keys()].sort(), 'together the whole matrix');
  assert.ok(a.owned.length > 20 && b.owned.length > 20, 'both shards have work');
  const computed = [...a.computed, ...b.computed];
  assert.equal(new Set(computed).size, computed.length, 'no cell computed twice');
  const cache = new CellCache(A);
  for (const [id, k] of s.keys) assert.ok(cache.has(k), `${id} has a result`);
});

test('the report of the sharded study renders in headless Chromium: no console errors, the tables\' rows, plots with marks; a screenshot is saved', { timeout: 900_000 }, async (t) => {
  const r = await cli(['report', '--budget', 'smoke', '--no-run', '--cache', A, '--out', join(WORK, 'report-a')]);
  ok(r);
  assert.equal(r.json.missing, 0, 'every cell of the report has a result');
  const html = readFileSync(join(WORK, 'report-a', 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'self-contained: no script, no network address');
  const kfold = JSON.parse(readFileSync(join(WORK, 'report-a', 'kfold', 'gad--replacement--glove.json'), 'utf8'));
  assert.equal(kfold.folds.length, 10);
  assert.ok(kfold.sd.f1 >= 0 && kfold.mean.f1 >= 0 && kfold.mean.f1 <= 1);
  const chromium = ensureChromium();
  if ('skip' in chromium) { t.skip(chromium.skip); return; }
  mkdirSync(join(REPO, 'dist', 'studies'), { recursive: true });
  const shot = join(REPO, 'dist', 'studies', 'report-smoke.png');
  const page = await inspectPage(chromium.path, `file://${join(WORK, 'report-a', 'index.html')}`, `(() => {
    const rows = {};
    for (const t of document.querySelectorAll('table')) rows[t.id] = [...t.tBodies[0].rows].map((r) => r.dataset.row);
    const marks = {};
    for (const f of document.querySelectorAll('figure.plot')) marks[f.id] = f.querySelectorAll('svg .role-mark > *').length;
    return { rows, marks, benchMissing: !!document.getElementById('bench-missing'), notRun: document.querySelectorAll('.missing').length };
  })()`, shot);
  cpSync(join(WORK, 'report-a'), join(REPO, 'dist', 'studies', 'report-smoke'), { recursive: true });
  assert.deepEqual(page.errors, [], 'no console errors');
  const v = page.value as { rows: Record<string, string[]>; marks: Record<string, number>; benchMissing: boolean };
  const prf = (ds: string[], sources: string[]) => ds.flatMap((d) => ['P', 'R', 'F'].flatMap((m) => sources.map((s) => `${d}/${m}${s ? `/${s}` : ''}`)));
  assert.deepEqual(v.rows['hiai-table2'], prf(['gad', 'chemprot'], ['paper', 'ours']));
  assert.deepEqual(v.rows['hiai-table4'], ['pubmed', 'pubmed+chemrxiv', 'pubmed+pmc', 'pubmed+pmc+chemrxiv']);
  assert.deepEqual(v.rows['hiai-table5'], prf(['gad', 'chemprot'], ['']));
  assert.deepEqual(v.rows['su-table3'], ['SOTA/paper', 'BioBERT/paper', 'BioBERT/ours', 'BioBERT+LSTM_LL/paper', 'BioBERT+LSTM_LL/ours', 'BioBERT+Att_LL/paper', 'BioBERT+Att_LL/ours']);
  assert.equal(v.rows['su-table4'].length, 12);
  assert.deepEqual(v.rows['su-table5'], ['aimed', 'ddi', 'chemprot']);
  assert.ok(v.rows['hiai-table3'].length >= 5, 'the paper\'s five Table 3 rows');
  const bench = existsSync(join(REPO, 'artifacts', 'bench', 'table3.json'));
  assert.equal(v.benchMissing, !bench, 'the report says the bench has not been run exactly when its JSON is absent');
  for (const [id, n] of Object.entries(v.marks)) {
    if (id === 'fig-speed' && !bench) continue;
    assert.ok(n > 0, `${id} has marks`);
  }
  for (const id of ['fig-learning-f1', 'fig-learning-loss', 'fig-per-class', 'fig-triggers', 'fig-heatmap-aimed-att_ll', 'fig-heatmap-ddi-att_ll', 'fig-heatmap-chemprot-att_ll', 'fig-heatmap-chemprot-lite']) {
    assert.ok(id in v.marks, `${id} is in the report`);
  }
  assert.ok(existsSync(shot));
  process.stderr.write(`screenshot: ${shot}\n`);
});

test('a rerun computes nothing; changing one cell\'s option recomputes only that cell', { timeout: 600_000 }, async () => {
  const again = await cli(['run', '--budget', 'smoke', '--cache', A]);
  ok(again);
  assert.deepEqual(again.json.computed, []);
  assert.equal(again.json.cached.length, again.json.owned.length, 'every cell (the tables\' and their pre-training) from the cache');
  const one = await cli(['run', '--budget', 'smoke', '--cache', A, '--set', 're/ddi/replacement/bert-cls:spec.seed=7']);
  ok(one);
  assert.deepEqual(one.json.computed, ['re/ddi/replacement/bert-cls']);
  process.stderr.write(`rerun ${again.seconds.toFixed(1)} s; one changed cell ${one.seconds.toFixed(1)} s\n`);
});

test('one process running a table alone computes the same cells and the same table as the two shards did', { timeout: 900_000 }, async () => {
  const r = await cli(['report', '--budget', 'smoke', '--table', 'su-table3', '--partial', '--cache', B, '--out', join(WORK, 'report-b')]);
  ok(r);
  const sa = openSession({ budget: 'smoke', tables: 'su-table3', cache: A });
  const sb = openSession({ budget: 'smoke', tables: 'su-table3', cache: B });
  let compared = 0;
  for (const id of sb.targets) {
    const k = sb.keys.get(id)!;
    assert.equal(k, sa.keys.get(id), 'same key in both caches');
    assert.deepEqual(sb.cache.record(k)!.result.test, sa.cache.record(k)!.result.test, `${id}: same test scores`);
    compared++;
  }
  assert.equal(compared, 36, 'three heads on ten AIMed folds, DDI and ChemProt');
  const table = (f: string) => /<table id="su-table3">[\s\S]*?<\/table>/.exec(readFileSync(f, 'utf8'))![0];
  assert.equal(table(join(WORK, 'report-b', 'index.html')), table(join(WORK, 'report-a', 'index.html')));
  const ja = JSON.parse(readFileSync(join(WORK, 'report-a', 'report.json'), 'utf8'));
  const jb = JSON.parse(readFileSync(join(WORK, 'report-b', 'report.json'), 'utf8'));
  assert.deepEqual(jb.tables['su-table3'], ja.tables['su-table3']);
});

test('nx run studies:report: the second identical run is served from the Nx cache', { timeout: 600_000 }, () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NX_')) env[k] = v;
  Object.assign(env, { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_CACHE_DIRECTORY: join(WORK, 'nx-cache') });
  const out = `tmp/studies-test-${process.pid}/report-nx`;
  const run = () => {
    const t0 = performance.now();
    const r = spawnSync(join(REPO, 'node_modules', '.bin', 'nx'), ['run', 'studies:report', '--budget', 'smoke', '--cache', A, '--out', out, '--outputStyle=stream'], { cwd: REPO, env, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    return { text: `${r.stdout}\n${r.stderr}`, seconds: (performance.now() - t0) / 1000 };
  };
  const first = run();
  assert.doesNotMatch(first.text, /read the output from the cache/);
  rmSync(join(REPO, out), { recursive: true, force: true });
  const second = run();
  assert.match(second.text, /read the output from the cache/);
  assert.ok(existsSync(join(REPO, out, 'index.html')), 'the cache restored the report');
  process.stderr.write(`nx run studies:report: ${first.seconds.toFixed(1)} s, then ${second.seconds.toFixed(1)} s from the Nx cache\n`);
});
