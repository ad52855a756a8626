// Run identity, locking, resume checks, crash safety and portable model folders of re-lite:train.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureStrace, killAtRename, repoRoot, traceRenames } from '@biore/runtime';
import { tinyGlove } from './fixtures.ts';

const tmp = mkdtempSync(join(tmpdir(), 'biore-runs-'));
const artifacts = join(tmp, 'artifacts');
const gloveDir = join(artifacts, 'glove');
const env = { ...process.env, BIORE_QUIET: '1', BIORE_ARTIFACTS: artifacts };
const script = join(repoRoot, 'apps/re-lite/src/train.ts');
// tsx by absolute URL, so the commands also run from a working directory outside the repository
const tsx = import.meta.resolve('tsx');
const tiny = ['--glove', gloveDir, '--limit-train', '64', '--limit-eval', '32', '--epochs', '2', '--hidden', '4', '--batch', '16'];

function train(args: string[], cwd = repoRoot) {
  const r = spawnSync(process.execPath, ['--import', tsx, script, ...args], { cwd, encoding: 'utf8', env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const scores = (dir: string) => JSON.parse(readFileSync(join(dir, 'test-scores.json'), 'utf8'));

before(() => tinyGlove(tmp, gloveDir));

test('runs that differ only in --hidden get two folders, each named by its spec', () => {
  for (const h of ['4', '6']) {
    const r = train([...tiny, '--hidden', h, '--epochs', '1']);
    assert.equal(r.code, 0, r.err);
  }
  const runs = readdirSync(join(artifacts, 're-lite'));
  assert.equal(runs.length, 2, runs.join(', '));
  const hidden = runs.map((d) => JSON.parse(readFileSync(join(artifacts, 're-lite', d, 'spec.json'), 'utf8')).spec.model.hidden).sort();
  assert.deepEqual(hidden, [4, 6]);
  for (const d of runs) {
    assert.match(d, /^chemprot-glove-tags-[0-9a-f]{10}$/);
    const s = scores(join(artifacts, 're-lite', d));
    assert.equal(s.runId, d);
    assert.equal(s.testInstances, 32);
    assert.deepEqual(s.subsampled, { limitTrain: 64, limitEval: 32 });
    const lines = readFileSync(join(artifacts, 're-lite', d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length > 0 && lines.every((l) => l.runId === d), 'every metrics line carries the run id');
  }
  // the same spec again is not silently retrained over
  const again = train([...tiny, '--hidden', '4', '--epochs', '1']);
  assert.equal(again.code, 1);
  assert.match(again.err, /holds this spec's run already \(finished\).*--resume.*--force/);
});

test('an explicit --out holding another spec\'s run is refused, naming the differing keys; --force replaces it', () => {
  const out = join(tmp, 'explicit');
  assert.equal(train([...tiny, '--epochs', '1', '--out', out]).code, 0);
  const other = train([...tiny, '--epochs', '1', '--lr', '0.01', '--out', out]);
  assert.equal(other.code, 1);
  assert.match(other.err, /holds another run .* differs in optimizer\.lr; choose another --out, or --force/);
  assert.equal(train([...tiny, '--epochs', '1', '--lr', '0.01', '--out', out, '--force']).code, 0);
  assert.equal(JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')).spec.optimizer.lr, 0.01);
});

test('--resume checks the whole spec: another batch, subsample or size is refused naming the keys; no checkpoint is an error', () => {
  const out = join(tmp, 'resume');
  assert.equal(train([...tiny, '--out', out]).code, 0);
  const batch = train([...tiny, '--out', out, '--resume', '--batch', '8', '--limit-train', '48']);
  assert.equal(batch.code, 1);
  assert.match(batch.err, /differs in budget\.batch, budget\.limitTrain/);
  // with the default folder (named by the spec) the nearest run is named instead
  const near = train([...tiny, '--resume', '--hidden', '5']);
  assert.equal(near.code, 1);
  assert.match(near.err, /no run of this spec to resume; the nearest run, .* differs in .*model\.hidden/);
  const none = train([...tiny, '--out', join(tmp, 'never-ran'), '--resume']);
  assert.equal(none.code, 1);
  assert.match(none.err, /--resume: no run of this spec to resume/);
});

test('a spec file re-runs a run: same spec, same scores', () => {
  const first = join(tmp, 'resume');
  const out = join(tmp, 'from-spec');
  const r = train(['--spec', join(first, 'spec.json'), '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')).spec, JSON.parse(readFileSync(join(first, 'spec.json'), 'utf8')).spec);
  assert.equal(scores(out).f1, scores(first).f1);
  assert.equal(scores(out).devF1, scores(first).devF1);
});

test('a second process training into the same folder is refused naming the holder; SIGTERM exits 143 after its checkpoint', async () => {
  const out = join(tmp, 'locked');
  const args = ['--glove', gloveDir, '--limit-train', '400', '--limit-eval', '32', '--epochs', '50', '--hidden', '4', '--batch', '8', '--out', out];
  const first = spawn(process.execPath, ['--import', tsx, script, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  first.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((res) => first.on('exit', (c) => res(c)));
  for (let i = 0; i < 600 && !existsSync(join(out, 'checkpoint', 'state.json')); i++) await new Promise((r) => setTimeout(r, 100));
  const second = train(args);
  assert.equal(second.code, 1);
  assert.match(second.err, new RegExp(`run folder is in use by pid ${first.pid}`));
  first.kill('SIGTERM');
  assert.equal(await exited, 143, err);
  assert.match(err, /stopped by SIGTERM: checkpoint written in .*; last epoch scored: (none|\d+); continue with --resume/);
  // the lock went with its process; a stale lock of a dead pid is taken over
  assert.ok(!existsSync(join(out, 'run.lock')));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(out, 'run.lock'), JSON.stringify({ pid: dead, host: (await import('node:os')).hostname(), started: 'then' }));
  // --max-time counts the resumed parts too: the budget is spent, so the resumed run takes one step and scores
  const resumed = train([...args, '--resume', '--max-time', '1']);
  assert.equal(resumed.code, 0, resumed.err);
});

test('a model folder moved with its artifacts predicts from another working directory', () => {
  const out = join(artifacts, 'portable-run');
  assert.equal(train([...tiny, '--epochs', '1', '--out', out]).code, 0);
  const best = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
  assert.equal(best.embeddings.path, '../../glove', 'members are referenced relative to the model folder');
  const moved = join(tmp, 'moved-artifacts');
  renameSync(artifacts, moved);
  try {
    const input = join(tmp, 'in.jsonl');
    writeFileSync(input, JSON.stringify({ id: 'a', text: 'Aspirin inhibits <gene>COX-1</gene> unlike <chem>celecoxib</chem>.' }) + '\n');
    const r = spawnSync(process.execPath, ['--import', tsx, join(repoRoot, 'apps/re-lite/src/predict.ts'), '--model', join(moved, 'portable-run'), '--input', input], { cwd: tmpdir(), encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim()).id, 'a');
  } finally {
    renameSync(moved, artifacts);
  }
});

test('--bundle copies the members into the run folder, so the run folder alone predicts', () => {
  const out = join(tmp, 'bundled');
  assert.equal(train([...tiny, '--epochs', '1', '--out', out, '--bundle']).code, 0);
  const best = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
  assert.match(best.embeddings.path, /^\.\.\/members\/glove-[0-9a-f]{8}$/);
  const copy = join(mkdtempSync(join(tmpdir(), 'biore-bundle-')), 'run');
  cpSync(out, copy, { recursive: true });
  const input = join(tmp, 'in2.jsonl');
  writeFileSync(input, JSON.stringify({ id: 'b', text: 'Tamoxifen binds <gene>ESR1</gene> and <chem>estradiol</chem> too.' }) + '\n');
  const r = spawnSync(process.execPath, ['--import', tsx, join(repoRoot, 'apps/re-lite/src/predict.ts'), '--model', copy, '--input', input], { cwd: tmpdir(), encoding: 'utf8', env: { ...env, BIORE_ARTIFACTS: join(tmp, 'nowhere') } });
  assert.equal(r.status, 0, r.stderr);
});

test('a SIGKILL between the two renames of a checkpoint leaves a complete one: --resume ends like an unbroken run', { skip: !ensureStrace() && 'strace is not installed and apt-get cannot install it (not root)' }, () => {
  const base = [...tiny, '--epochs', '2', '--checkpoint-every', '1'];
  const unbroken = join(tmp, 'kill-unbroken');
  const traced = traceRenames(process.execPath, ['--import', tsx, script, ...base, '--out', unbroken], { cwd: repoRoot, env });
  assert.equal(traced.run.status, 0, traced.run.stderr);
  // the renames that publish a checkpoint: a generation into checkpoints/, then the `checkpoint` link onto it
  const linkRenames = traced.renames.map(([, to], i) => ({ to, i })).filter((x) => x.to.endsWith('/checkpoint'));
  assert.ok(linkRenames.length >= 4, `${linkRenames.length} checkpoints published`);
  const at = linkRenames[2].i + 1; // 1-based: the third checkpoint's link rename, after its generation landed
  const broken = join(tmp, 'kill-broken');
  const killed = killAtRename(process.execPath, ['--import', tsx, script, ...base, '--out', broken], at, { cwd: repoRoot, env });
  assert.equal(killed.signal ?? (killed.status === 137 ? 'SIGKILL' : killed.status), 'SIGKILL', killed.stderr);
  const gens = readdirSync(join(broken, 'checkpoints')).filter((n) => n.startsWith('ckpt-'));
  assert.ok(gens.includes('ckpt-000000003'), `the third generation is complete on disk (${gens.join(', ')})`);
  const r = train([...base, '--out', broken, '--resume']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /"event":"resume".*ckpt-000000003/, 'resume picks the newest complete generation, not the stale link');
  const a = readFileSync(join(unbroken, 'best', 'model.safetensors'));
  const b = readFileSync(join(broken, 'best', 'model.safetensors'));
  assert.ok(a.equals(b), 'the resumed run ends with the same best model, bit for bit');
  assert.equal(scores(broken).f1, scores(unbroken).f1);
  assert.deepEqual(readdirSync(join(broken, 'checkpoints')).filter((n) => n.startsWith('.')), [], 'no temporary folders are left');
});

test('--workers 2 trains data-parallel to the same dev score as one process', () => {
  const one = train([...tiny, '--epochs', '1', '--out', join(tmp, 'w1'), '--workers', '1']);
  const two = train([...tiny, '--epochs', '1', '--out', join(tmp, 'w2'), '--workers', '2']);
  assert.equal(one.code, 0, one.err);
  assert.equal(two.code, 0, two.err);
  assert.match(two.err, /"event":"workers","participants":2/);
  assert.doesNotMatch(one.err, /"event":"workers"/);
  assert.ok(Math.abs(scores(join(tmp, 'w1')).devF1 - scores(join(tmp, 'w2')).devF1) < 1e-9, 'same dev F1 (the updates agree up to summation order)');
});
