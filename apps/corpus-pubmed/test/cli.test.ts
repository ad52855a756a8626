import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findData } from '@biore/runtime';
import { startFaultServer } from '@biore/fetch';

/** Runs an app script with tsx; resolves with its exit code and output (async, so the test's server keeps serving). */
function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join('apps/corpus-pubmed/src', script), ...args], { env: { ...process.env, BIORE_QUIET: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('parse prints the 604 MEDLINE citations as JSON lines', async () => {
  const r = await run('parse.ts', ['--file', findData('text/pubmed/medline16n0902.xml.gz').path]);
  assert.equal(r.code, 0);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(docs.length, 604);
  assert.equal(docs.filter((d) => d.abstract).length, 526);
});

test('a missing file ends in one error line naming it', async () => {
  const r = await run('parse.ts', ['--file', '/nonexistent/x.xml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: \/nonexistent\/x\.xml: file not found$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('download fetches a query through E-utilities into a resumable job folder and reports it', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  const dir = findData('fixtures/eutils').path;
  srv.route('/eutils/esearch.fcgi', () => ({ body: readFileSync(join(dir, 'esearch2.xml')) }));
  srv.route('/eutils/efetch.fcgi', () => ({ body: readFileSync(join(dir, 'pubmed2.xml')) }));
  const out = join(mkdtempSync(join(tmpdir(), 'app-pubmed-')), 'job');
  const args = ['--query', 'asthma', '--from', '2020', '--to', '2021', '--batch', '2', '--max', '4', '--out', out, '--eutils-base', `${srv.baseUrl}/eutils`, '--email', 'dev@example.org'];
  const r = await run('download.ts', args);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(rep.shards, 2);
  assert.equal(rep.records, 4);
  assert.match(r.stderr, /NCBI: tool=biore email=dev@example.org, no API key, 3 requests\/s/);
  assert.deepEqual(readdirSync(out).sort(), ['efetch-000000000.xml.gz', 'efetch-000000002.xml.gz', 'job.json']);
  const again = JSON.parse((await run('download.ts', args)).stdout.trim().split('\n').pop()!);
  assert.equal(again.shardsSkipped, 2);
  assert.equal(srv.count('/eutils/efetch.fcgi'), 2);
});
