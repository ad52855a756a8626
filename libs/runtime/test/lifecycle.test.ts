// The one training lifecycle: checkpoints that survive a kill at any instant, run folders with identity and a
// lock, and the loop's budgets and signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CheckpointStore, UserError, diffKeys, ensureStrace, killAtRename, loadArtifact, lockRun, openRunFolder, runLoop, saveArtifact, specHash,
  traceRenames, type ArtifactContents, type StepReport, type TrainingTask,
} from '../src/index.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'biore-life-'));
const tsx = import.meta.resolve('tsx');
const here = fileURLToPath(new URL('.', import.meta.url));
const one = (v: number): ArtifactContents => ({ config: { v }, tensors: { w: { dtype: 'float32', shape: [2], data: new Float32Array([v, -v]) } }, state: { v } });

test('each checkpoint is a new generation behind a relative link; the newest complete one is read, older ones removed', () => {
  const run = tmp();
  const store = new CheckpointStore(join(run, 'checkpoint'), join(run, 'checkpoints'));
  assert.equal(store.latest(), undefined);
  store.save(one(1));
  store.save(one(2));
  assert.deepEqual(readdirSync(join(run, 'checkpoints')), ['ckpt-000000002']);
  assert.equal(readlinkSync(join(run, 'checkpoint')), join('checkpoints', 'ckpt-000000002'));
  assert.equal(store.load()!.state.v, 2);
  // an interrupted save leaves a temporary folder and an older link: neither misleads the reader, and both are cleaned
  mkdirSync(join(run, 'checkpoints', '.ckpt-tmp-1-dead'));
  writeFileSync(join(run, 'checkpoints', '.ckpt-tmp-1-dead', 'state.json'), '{"v": 99}');
  store.save(one(3));
  assert.equal(store.load()!.state.v, 3);
  assert.deepEqual(readdirSync(join(run, 'checkpoints')), ['ckpt-000000003']);
});

test('a generation without its completion mark (a copy cut short) is passed over for the one before', () => {
  const run = tmp();
  const store = new CheckpointStore(join(run, 'checkpoint'), join(run, 'checkpoints'));
  store.save(one(1));
  mkdirSync(join(run, 'checkpoints', 'ckpt-000000002'));
  writeFileSync(join(run, 'checkpoints', 'ckpt-000000002', 'state.json'), '{"v": 2}');
  assert.equal(store.load()!.state.v, 1);
});

const writer = join(here, 'fixtures', 'rewrite-child.ts');

test('SIGKILL between the two renames of a folder replacement: the folder is recovered, never lost', { skip: !ensureStrace() && 'strace is not installed and apt-get cannot install it (not root)' }, () => {
  const dir = join(tmp(), 'model');
  saveArtifact(dir, one(1));
  const args = ['--import', tsx, writer, dir, '2'];
  // renames of one replacement: the old folder aside, then the new one into place; kill at the second
  const dry = join(tmp(), 'model');
  saveArtifact(dry, one(1));
  const traced = traceRenames(process.execPath, ['--import', tsx, writer, dry, '2']);
  assert.equal(traced.run.status, 0, traced.run.stderr);
  const into = traced.renames.findIndex(([, to]) => to === dry);
  assert.ok(into > 0 && traced.renames[into - 1][0] === dry, 'the old folder is renamed aside just before the new one comes in');
  const killed = killAtRename(process.execPath, args, into + 1);
  assert.equal(killed.signal ?? (killed.status === 137 ? 'SIGKILL' : killed.status), 'SIGKILL');
  assert.ok(!existsSync(dir), 'the kill left no folder at its name');
  assert.deepEqual(loadArtifact(dir).config, { v: 1 }, 'reading recovers the complete old folder');
  assert.deepEqual(readdirSync(join(dir, '..')).filter((n) => n.startsWith('.')), [], 'no aside copy is left');
});

test('SIGKILL between the two renames of a checkpoint: the newest complete generation is read', { skip: !ensureStrace() && 'strace is not installed and apt-get cannot install it (not root)' }, () => {
  const run = tmp();
  const link = join(run, 'checkpoint');
  const args = ['--import', tsx, join(here, 'fixtures', 'checkpoint-child.ts'), link, '3'];
  const dry = traceRenames(process.execPath, ['--import', tsx, join(here, 'fixtures', 'checkpoint-child.ts'), join(tmp(), 'checkpoint'), '3']);
  const links = dry.renames.map(([, to], i) => ({ to, i })).filter((x) => x.to.endsWith('/checkpoint'));
  assert.equal(links.length, 3);
  const killed = killAtRename(process.execPath, args, links[2].i + 1);
  assert.equal(killed.signal ?? (killed.status === 137 ? 'SIGKILL' : killed.status), 'SIGKILL');
  assert.equal(readFileSync(join(link, 'state.json'), 'utf8').trim(), '{"v":2}', 'the link still names the second');
  const store = new CheckpointStore(link);
  assert.equal(store.load()!.state.v, 3, 'the third generation landed before the kill and is the one resumed');
});

test('a run folder holds one spec: another is refused naming the keys, --force replaces it', () => {
  const dir = join(tmp(), 'run');
  const spec = { model: { hidden: 4 }, budget: { batch: 8, maxTime: 0 } };
  const a = openRunFolder(dir, spec, { runId: `r-${specHash(spec)}` });
  assert.equal(a.existed, false);
  a.release();
  const again = openRunFolder(dir, { ...spec, budget: { batch: 8, maxTime: 60 } }, { runId: a.runId, ignore: (k) => k === 'budget.maxTime' });
  assert.equal(again.existed, true, 'a time budget is not part of the identity');
  again.release();
  assert.throws(() => openRunFolder(dir, { model: { hidden: 6 }, budget: { batch: 16, maxTime: 60 } }, { runId: 'other' }),
    (e: Error) => e instanceof UserError && /differs in budget\.batch, model\.hidden; choose another --out, or --force/.test(e.message));
  const forced = openRunFolder(dir, { model: { hidden: 6 } }, { runId: 'other', force: true });
  forced.release();
  assert.equal(JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')).runId, 'other');
  assert.deepEqual(diffKeys({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] }, d: 0 }), ['b.c', 'd']);
});

test('the lock: a live holder is named, a dead one is taken over, release frees it', async () => {
  const dir = tmp();
  const holder = spawn(process.execPath, ['-e', `
    const { openSync, writeSync } = require('node:fs');
    writeSync(openSync(${JSON.stringify(join(dir, 'run.lock'))}, 'wx'), JSON.stringify({ pid: process.pid, host: ${JSON.stringify(hostname())}, started: 'now' }));
    setTimeout(() => {}, 30000);`]);
  for (let i = 0; i < 200 && !existsSync(join(dir, 'run.lock')); i++) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 100));
  assert.throws(() => lockRun(dir), (e: Error) => e instanceof UserError && new RegExp(`in use by pid ${holder.pid} `).test(e.message));
  holder.kill('SIGKILL');
  await new Promise((r) => holder.on('exit', r));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: dead, host: hostname(), started: 'then' }));
  const release = lockRun(dir);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).pid, process.pid);
  release();
  assert.ok(!existsSync(join(dir, 'run.lock')));
});

/** A task of `n` steps whose loss is its step count; evaluates every `every` steps. */
function countingTask(n: number, every = 0): TrainingTask & { done: number; evals: string[] } {
  return {
    unit: 'items', done: 0, evals: [],
    totalItems() { return n; }, itemsDone() { return this.done; }, steps() { return this.done; }, finished() { return this.done >= n; },
    step(): StepReport { this.done++; return { loss: this.done, items: 1, evaluate: every && this.done % every === 0 ? `at ${this.done}` : undefined }; },
    evaluate(label: string) { this.evals.push(label); return { score: -Math.abs(this.done - 4), metrics: {} }; },
    snapshot() { return one(this.done); },
  };
}

test('the loop: evaluations keep the best score, a checkpoint at each one and at the stop, max-steps over resumed parts', async () => {
  const run = tmp();
  const store = new CheckpointStore(join(run, 'checkpoint'), join(run, 'checkpoints'));
  const t = countingTask(10, 2);
  const r = await runLoop(t, { label: 'test', quiet: true, checkpoints: store, higherIsBetter: true, maxSteps: 6 });
  assert.equal(r.stopped, 'max-steps');
  assert.equal(t.done, 6);
  assert.deepEqual(t.evals, ['at 2', 'at 4', 'at 6']);
  assert.equal(r.state.best! + 0, 0);
  assert.equal(r.state.bestLabel, 'at 4');
  const saved = store.load()!.state as { v: number; loop: { best: number } };
  assert.equal(saved.v, 6);
  assert.equal(saved.loop.best + 0, 0);
  const r2 = await runLoop(t, { label: 'test', quiet: true, checkpoints: store, higherIsBetter: true, resumed: r.state });
  assert.equal(r2.stopped, 'finished');
  assert.equal(t.done, 10);
  assert.equal(r2.state.bestLabel, 'at 4', 'the best of the first part survives the resume');
});

test('the loop: a NaN loss is a clear error, a stop request ends after the step with a checkpoint', async () => {
  const bad = countingTask(5);
  bad.step = () => ({ loss: NaN, items: 1 });
  await assert.rejects(runLoop(bad, { label: 'x', quiet: true, higherIsBetter: true }), /training diverged at step 0: loss NaN/);
  const run = tmp();
  const store = new CheckpointStore(join(run, 'checkpoint'));
  const t = countingTask(100);
  const r = await runLoop(t, { label: 'x', quiet: true, higherIsBetter: true, checkpoints: store, shouldStop: () => t.done === 3 });
  assert.equal(r.stopped, 'signal');
  assert.equal(store.load()!.state.v, 3);
});
