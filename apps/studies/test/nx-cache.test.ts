// Nx caching of an artifact target, on glove:build over a tiny corpus, in a copy of the workspace (its own
// Nx cache, so the shared checkout and its cache are untouched): an identical second run is a cache hit that
// restores the outputs, a changed option, source file or data file is a miss, a changed test file is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

function workspaceCopy(): string {
  const w = mkdtempSync(join(tmpdir(), 'biore-nx-cache-'));
  for (const f of ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore']) cpSync(join(REPO, f), join(w, f));
  // glove:build and the workspace packages it depends on, and the data-fingerprint command the `data` input runs
  for (const d of ['apps/glove', 'libs/glove', 'libs/runtime', 'libs/text', 'apps/studies/bin']) cpSync(join(REPO, d), join(w, d), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(w, 'node_modules'));
  const text = readFileSync(join(REPO, '..', 'shared', 'data', 'text', 'pubmed', 'PubMedAbstract_1MB.txt'), 'utf8');
  writeFileSync(join(w, 'corpus.txt'), text.slice(0, 40_000));
  mkdirSync(join(w, 'data'));
  writeFileSync(join(w, 'data', 'note.txt'), 'v1\n');
  return w;
}

function nx(w: string, extra: string[] = []): { out: string; hit: boolean; ran: boolean } {
  const env: NodeJS.ProcessEnv = {};
  // a parent `nx run-many --skipNxCache` exports NX_SKIP_NX_CACHE; this test needs the cache, so no NX_* passes through
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NX_')) env[k] = v;
  Object.assign(env, { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_CACHE_DIRECTORY: join(w, '.nx-cache'), BIORE_DATA: join(w, 'data') });
  const args = ['nx', 'run', 'glove:build', '--corpus', 'corpus.txt', '--out', 'out/glove', '--dim', '6', '--threads', '1', '--min-count', '2', '--outputStyle=stream', ...extra];
  const r = spawnSync(join(w, 'node_modules', '.bin', 'nx'), args.slice(1), { cwd: w, env, encoding: 'utf8' });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  return { out, hit: /read the output from the cache/.test(out), ran: /"vocabSize":\d+/.test(out) };
}

test('glove:build is served from the Nx cache when nothing changed, and recomputed when an option, a source or the data changes', { timeout: 240_000 }, () => {
  const w = workspaceCopy();
  try {
    const first = nx(w, ['--iterations', '2']);
    assert.ok(first.ran && !first.hit, 'first run computes');
    const vectors = readFileSync(join(w, 'out', 'glove', 'vectors.bin'));

    const second = nx(w, ['--iterations', '2']);
    assert.ok(second.hit, `identical run is a cache hit:\n${second.out}`);

    rmSync(join(w, 'out'), { recursive: true, force: true });
    const restored = nx(w, ['--iterations', '2']);
    assert.ok(restored.hit, 'still a hit with the outputs deleted');
    assert.deepEqual(readFileSync(join(w, 'out', 'glove', 'vectors.bin')), vectors, 'the cache restored the declared output');

    const option = nx(w, ['--iterations', '3']);
    assert.ok(option.ran && !option.hit, 'a changed option is a miss');

    appendFileSync(join(w, 'libs', 'glove', 'test', 'cache-probe.test.ts'), '// a test file is not a production input\n');
    assert.ok(nx(w, ['--iterations', '3']).hit, 'a changed test file of a dependency is not an input');

    appendFileSync(join(w, 'libs', 'glove', 'src', 'index.ts'), '\n// a source change\n');
    const source = nx(w, ['--iterations', '3']);
    assert.ok(source.ran && !source.hit, 'a changed source of a dependency (^production) is a miss');

    writeFileSync(join(w, 'data', 'note.txt'), 'v2, a different size\n');
    const data = nx(w, ['--iterations', '3']);
    assert.ok(data.ran && !data.hit, 'a changed file under the data root is a miss');
    assert.ok(existsSync(join(w, 'out', 'glove', 'vectors.bin')));
  } finally {
    rmSync(w, { recursive: true, force: true });
  }
});
