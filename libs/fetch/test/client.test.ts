import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { findData, UserError } from '@biore/runtime';
import { HttpClient, HostRateLimiter, RetryableError, parseRetryAfter, startFaultServer, ShardJob } from '@biore/fetch';

const eutils = findData('fixtures/eutils').path;
const esearch = readFileSync(join(eutils, 'esearch2.xml'));

/** A client whose waits are recorded instead of slept. */
function fastClient(extra: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const waits: number[] = [];
  const client = new HttpClient({ ratePerHost: 1000, baseDelayMs: 100, random: () => 0.5, sleep: async (ms) => { waits.push(ms); }, ...extra });
  return { client, waits };
}

test('Retry-After is read as seconds or as an HTTP date', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('the per-host rate limit spaces request starts 1/rate apart (3 requests/s for NCBI)', async () => {
  let clock = 0;
  const starts: number[] = [];
  const lim = new HostRateLimiter(3, async (ms) => { clock += ms; }, () => clock);
  for (let i = 0; i < 5; i++) { await lim.acquire('eutils.ncbi.nlm.nih.gov'); starts.push(clock); }
  assert.deepEqual(starts.map(Math.round), [0, 333, 667, 1000, 1333]);
  // another host has its own budget
  const before = clock;
  await lim.acquire('chemrxiv.org');
  assert.equal(clock, before);
});

test('backoff doubles per attempt, jitters, honours a longer Retry-After and is capped', () => {
  const c = new HttpClient({ baseDelayMs: 1000, maxDelayMs: 10_000, random: () => 0.5 });
  assert.deepEqual([1, 2, 3].map((a) => c.backoffMs(a)), [1000, 2000, 4000]);
  assert.equal(c.backoffMs(1, 7000), 7000);
  assert.equal(c.backoffMs(6), 10_000);
  const lo = new HttpClient({ baseDelayMs: 1000, random: () => 0 }).backoffMs(1);
  const hi = new HttpClient({ baseDelayMs: 1000, random: () => 0.999 }).backoffMs(1);
  assert.ok(lo === 500 && hi > 1490);
});

test('429 with Retry-After, a 500 and a connection cut mid-body are retried and counted', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/esearch.fcgi', () => ({ body: esearch, headers: { 'content-type': 'text/xml' } }));
  const all = () => true;
  srv.fault(all, { kind: 'status', status: 429, retryAfter: '2' }).fault(all, { kind: 'status', status: 500 }).fault(all, { kind: 'cut' });
  const { client, waits } = fastClient();
  t.after(() => client.close());
  const body = await client.getBuffer(`${srv.baseUrl}/esearch.fcgi`, { query: { db: 'pubmed', term: 'x' } });
  assert.ok(body.equals(esearch));
  assert.equal(srv.count('/esearch.fcgi'), 4);
  assert.equal(client.stats.retries, 3);
  assert.equal(client.stats.retryReasons['http 429'], 1);
  assert.equal(client.stats.retryReasons['http 500'], 1);
  assert.equal(waits[0], 2000, 'the first wait honours Retry-After: 2');
  assert.equal(waits.length, 3);
});

test('a truncated gzip body is retried; a gzip-encoded body is decoded', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/efetch.fcgi', () => ({ body: esearch, gzip: true }));
  srv.fault(() => true, { kind: 'truncate-gzip' });
  const { client } = fastClient();
  t.after(() => client.close());
  const body = await client.getBuffer(`${srv.baseUrl}/efetch.fcgi`);
  assert.ok(body.equals(esearch));
  assert.equal(client.stats.retryReasons['gzip'], 1);
});

test('a validator can reject a malformed response, which is then retried', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/x', () => ({ body: '{"ok":true}' }));
  srv.fault(() => true, { kind: 'body', body: '{"ok":' });
  const { client } = fastClient();
  t.after(() => client.close());
  const text = await client.getText(`${srv.baseUrl}/x`, {
    validate: (s) => { try { JSON.parse(s); } catch { throw new RetryableError('malformed JSON'); } },
  });
  assert.equal(text, '{"ok":true}');
  assert.equal(client.stats.retries, 1);
});

test('a 404, or retries running out, ends in one UserError naming the URL', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/always500', () => ({ body: 'x' }));
  srv.fault((u) => u.pathname === '/always500', { kind: 'status', status: 503 }, 100);
  const { client } = fastClient({ retries: 2 });
  t.after(() => client.close());
  await assert.rejects(client.getBuffer(`${srv.baseUrl}/missing`), (e: unknown) => e instanceof UserError && /404/.test(e.message) && e.message.includes('/missing'));
  await assert.rejects(client.getBuffer(`${srv.baseUrl}/always500?api_key=SECRET`), (e: unknown) => e instanceof UserError && /503 after 3 attempt/.test(e.message) && !e.message.includes('SECRET'));
  assert.equal(srv.count('/always500'), 3);
});

test('download checks MD5 and gzip integrity and leaves no partial file on failure', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  const gz = readFileSync(join(findData('text/pubmed').path, 'medline16n0902.xml.gz'));
  const md5 = createHash('md5').update(gz).digest('hex');
  srv.route('/baseline/f.xml.gz', () => ({ body: gz }));
  srv.fault(() => true, { kind: 'truncate' }).fault(() => true, { kind: 'cut' });
  const dir = mkdtempSync(join(tmpdir(), 'fetch-dl-'));
  const { client } = fastClient();
  t.after(() => client.close());
  const r = await client.download(`${srv.baseUrl}/baseline/f.xml.gz`, join(dir, 'f.xml.gz'), { md5 });
  assert.equal(r.md5, md5);
  assert.ok(readFileSync(join(dir, 'f.xml.gz')).equals(gz));
  assert.equal(client.stats.retries, 2);
  assert.deepEqual(readdirSync(dir), ['f.xml.gz']);
  // a file that never matches its MD5 fails, and nothing is left behind
  const { client: c2 } = fastClient({ retries: 1 });
  t.after(() => c2.close());
  await assert.rejects(c2.download(`${srv.baseUrl}/baseline/f.xml.gz`, join(dir, 'g.xml.gz'), { md5: '0'.repeat(32) }), UserError);
  assert.deepEqual(readdirSync(dir), ['f.xml.gz']);
});

test('a sharded job records finished shards, skips them when reopened and discards a failed shard', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fetch-job-'));
  const job = ShardJob.open(dir, 'demo', { q: 'x' });
  assert.equal(await job.shard('a.txt', async (w) => { await w.write('alpha\n'); return { records: 1 }; }), true);
  await assert.rejects(job.shard('b.txt', async (w) => { await w.write('half'); throw new Error('boom'); }));
  assert.ok(!existsSync(join(dir, 'b.txt')));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('tmp')), []);
  const again = ShardJob.open(dir, 'demo', { q: 'x' });
  assert.equal(again.isDone('a.txt'), true);
  assert.equal(again.isDone('b.txt'), false);
  assert.equal(await again.shard('a.txt', async () => { throw new Error('must not run'); }), false);
  assert.equal(again.state.shards['a.txt'].sha256, createHash('sha256').update('alpha\n').digest('hex'));
  assert.throws(() => ShardJob.open(dir, 'demo', { q: 'y' }), UserError);
});

test('redirects are followed', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/old.pdf', () => ({ status: 302, headers: { location: '/assets/new.pdf' }, body: '' }));
  srv.route('/assets/new.pdf', () => ({ body: '%PDF-1.4 tiny' }));
  const { client } = fastClient();
  t.after(() => client.close());
  assert.equal((await client.getBuffer(`${srv.baseUrl}/old.pdf`)).toString(), '%PDF-1.4 tiny');
  assert.deepEqual(srv.log.map((l) => l.path), ['/old.pdf', '/assets/new.pdf']);
});

test('a server that never answers times out and the request is retried', async (t) => {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  srv.route('/slow', () => ({ body: 'finally' }));
  srv.fault(() => true, { kind: 'hang' });
  const { client } = fastClient({ timeoutMs: 200 });
  t.after(() => client.close());
  assert.equal((await client.getBuffer(`${srv.baseUrl}/slow`)).toString(), 'finally');
  assert.equal(client.stats.retryReasons['UND_ERR_HEADERS_TIMEOUT'], 1);
});
