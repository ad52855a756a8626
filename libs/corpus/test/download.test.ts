import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findData, UserError } from '@biore/runtime';
import { HttpClient, ncbiIdentity, startFaultServer, type FaultServer } from '@biore/fetch';
import {
  downloadEutils, downloadBaseline, downloadChemrxiv, parsePubmed, parseJats, readLocalChemrxiv, sourceDocuments, parseEsearch, parseEpost,
} from '@biore/corpus';
import { EFETCH_RECORDS, minimalPdf, routeEutils } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const identity = ncbiIdentity({ tool: 'biore-test', email: 'dev@example.org' });

/** A client that records its waits instead of sleeping them. */
function fastClient() {
  const waits: number[] = [];
  const client = new HttpClient({ ratePerHost: 1000, baseDelayMs: 5, random: () => 0.5, sleep: async (ms) => { waits.push(ms); } });
  return { client, waits };
}

async function server(t: { after: (f: () => Promise<void>) => void }): Promise<FaultServer> {
  const srv = await startFaultServer();
  t.after(() => srv.close());
  return srv;
}

const noTemporaries = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));
const retstart = (n: number) => (u: URL) => u.pathname.endsWith('efetch.fcgi') && u.searchParams.get('retstart') === String(n);
const efetchCount = (srv: FaultServer, n: number) => srv.log.filter((r) => r.path.endsWith('efetch.fcgi') && new URLSearchParams(r.query.replace(/^\?/, '').replace(/^&/, '')).get('retstart') === String(n)).length;

async function* docsOf(dir: string) {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml.gz')).sort()) yield* parsePubmed(join(dir, f));
}

test('PubMed through E-utilities finishes despite 429, 500, a cut body, a truncated gzip and a malformed record', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  const good2 = readFileSync(join(findData('fixtures/eutils').path, 'pubmed4.xml'), 'utf8');
  srv.fault((u) => u.pathname.endsWith('esearch.fcgi'), { kind: 'status', status: 429, retryAfter: '1' })
    .fault(retstart(1), { kind: 'status', status: 500 })
    .fault(retstart(2), { kind: 'cut' })
    .fault(retstart(3), { kind: 'truncate-gzip' })
    .fault(retstart(4), { kind: 'body', body: good2.replace('</ArticleTitle>', '</ArticleTitl>') });
  const { client, waits } = fastClient();
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-pubmed-'));
  const r = await downloadEutils({ db: 'pubmed', term: 'asthma', mindate: '2018', maxdate: '2019', batchSize: 1, maxRecords: 5, out, client, identity, base: `${srv.baseUrl}/entrez/eutils` });
  assert.equal(r.total, 5);
  assert.equal(r.shards, 5);
  assert.equal(r.records, EFETCH_RECORDS.reduce((a, b) => a + b, 0));
  assert.equal(client.stats.retries, 5);
  assert.equal(client.stats.retryReasons['http 429'], 1);
  assert.equal(client.stats.retryReasons['http 500'], 1);
  assert.equal(client.stats.retryReasons['gzip'], 1);
  assert.equal(client.stats.retryReasons['bad response'], 1);
  assert.equal(Object.values(client.stats.retryReasons).reduce((a, b) => a + b, 0), 5);
  assert.ok(waits.includes(1000), 'Retry-After: 1 was honoured');
  assert.equal(noTemporaries(out).length, 0);
  assert.deepEqual(readdirSync(out).sort(), ['efetch-000000000.xml.gz', 'efetch-000000001.xml.gz', 'efetch-000000002.xml.gz', 'efetch-000000003.xml.gz', 'efetch-000000004.xml.gz', 'job.json']);
  // NCBI's identity and the history server are used on every request
  const q = srv.log.find((l) => l.path.endsWith('efetch.fcgi'))!.query;
  assert.match(q, /tool=biore-test/);
  assert.match(q, /email=dev%40example.org/);
  assert.match(q, /WebEnv=MCID_6927d6e7fee3e90f880ec190/);
  assert.match(q, /query_key=1/);
  assert.match(srv.log.find((l) => l.path.endsWith('esearch.fcgi'))!.query, /usehistory=y.*mindate=2018/);
  // the shards are what the parser reads: the real fixtures, intact
  const docs = [];
  for await (const d of docsOf(out)) docs.push(d);
  assert.equal(docs.length, 7);
  assert.ok(docs.some((d) => d.pmid === '29768149'));
  // and the job folder is a pubmed source for the corpus build
  let n = 0;
  for await (const d of sourceDocuments({ name: 'pubmed', dir: out })) n += d.pmid ? 1 : 0;
  assert.equal(n, 7);
});

test('an aborted job, restarted, does not re-request finished shards and leaves no partial file', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  const out = mkdtempSync(join(tmpdir(), 'dl-abort-'));
  const ac = new AbortController();
  srv.fault(retstart(2), { kind: 'hang' });
  const { client } = fastClient();
  t.after(() => client.close());
  const base = `${srv.baseUrl}/entrez/eutils`;
  const opts = { db: 'pubmed' as const, term: 'asthma', batchSize: 1, maxRecords: 5, out, client, identity, base };
  const first = downloadEutils({
    ...opts, signal: ac.signal,
    onShard: (_n: string, done: number) => { if (done === 2) setTimeout(() => ac.abort(new Error('stopped by the test')), 50); },
  });
  await assert.rejects(first, /stopped by the test/);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')).shards), ['efetch-000000000.xml.gz', 'efetch-000000001.xml.gz']);
  assert.equal(noTemporaries(out).length, 0);
  const r = await downloadEutils(opts);
  assert.equal(r.shardsSkipped, 2);
  assert.equal(r.shards, 3);
  assert.equal(efetchCount(srv, 0), 1);
  assert.equal(efetchCount(srv, 1), 1);
  assert.equal(efetchCount(srv, 2), 2); // the hung request, then the real one
  assert.equal(efetchCount(srv, 3), 1);
});

test('a job killed with SIGKILL resumes without re-downloading finished shards', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  srv.fault(retstart(2), { kind: 'hang' });
  const out = mkdtempSync(join(tmpdir(), 'dl-kill-'));
  const base = `${srv.baseUrl}/entrez/eutils`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'kill-child.ts'), base, out], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      seen += b.toString();
      if (seen.includes('done efetch-000000001')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
  });
  // wait until the child sits in the hung request for shard 2, then kill it
  while (efetchCount(srv, 2) === 0) await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const { client } = fastClient();
  t.after(() => client.close());
  const r = await downloadEutils({ db: 'pubmed', term: 'asthma', batchSize: 1, maxRecords: 5, out, client, identity, base });
  assert.equal(r.shardsSkipped, 2);
  assert.equal(efetchCount(srv, 0), 1);
  assert.equal(efetchCount(srv, 1), 1);
  assert.equal(noTemporaries(out).length, 0, 'the killed writer\'s temporary file was removed');
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.xml.gz')).length, 5);
});

test('PMC open-access articles come through EFetch db=pmc as JATS shards', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  srv.fault((u) => u.pathname.endsWith('efetch.fcgi'), { kind: 'status', status: 503 });
  const { client } = fastClient();
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-pmc-'));
  const r = await downloadEutils({ db: 'pmc', term: 'asthma', batchSize: 2, maxRecords: 4, out, client, identity, base: `${srv.baseUrl}/entrez/eutils` });
  assert.equal(r.shards, 2);
  assert.equal(client.stats.retries, 1);
  assert.match(decodeURIComponent(srv.log.find((l) => l.path.endsWith('esearch.fcgi'))!.query.replace(/\+/g, ' ')), /\(asthma\) AND open access\[filter\]/);
  const docs = [];
  for await (const d of sourceDocuments({ name: 'pmc', dir: out })) docs.push(d);
  assert.equal(docs.length, 2);
  assert.equal(docs[0].id, 'PMC8435807');
  for await (const a of parseJats(join(out, 'efetch-000000000.xml.gz'))) assert.equal(a.pmid, '34527728');
});

test('baseline files are checked against their .md5 and for gzip integrity, and a restart skips verified files', async (t) => {
  const srv = await server(t);
  const gz = readFileSync(join(findData('text/pubmed').path, 'medline16n0902.xml.gz'));
  const md5 = createHash('md5').update(gz).digest('hex');
  const names = ['pubmed16n0901.xml.gz', 'pubmed16n0902.xml.gz'];
  srv.route('/pubmed/baseline/', (u) => {
    const f = u.pathname.split('/').pop()!;
    if (!f) return { body: `<html><body>${names.map((n) => `<a href="${n}">${n}</a> <a href="${n}.md5">${n}.md5</a>`).join('\n')}</body></html>` };
    if (f.endsWith('.md5')) return { body: `MD5(${f.slice(0, -4)})= ${md5}\n` };
    return names.includes(f) ? { body: gz } : undefined;
  });
  const file = (n: string) => (u: URL) => u.pathname.endsWith(n);
  srv.fault(file('0901.xml.gz'), { kind: 'truncate' }).fault(file('0902.xml.gz'), { kind: 'cut' }).fault(file('0902.xml.gz.md5'), { kind: 'status', status: 500 });
  const { client } = fastClient();
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-baseline-'));
  const base = `${srv.baseUrl}/pubmed/baseline`;
  const r = await downloadBaseline({ base, out, client });
  assert.equal(r.shards, 2);
  assert.equal(client.stats.retries, 3);
  for (const n of names) assert.ok(readFileSync(join(out, n)).equals(gz));
  assert.equal(noTemporaries(out).length, 0);
  let n = 0;
  for await (const _ of parsePubmed(join(out, names[0]))) n++;
  assert.equal(n, 604);
  const before = srv.log.length;
  const again = await downloadBaseline({ base, out, client });
  assert.equal(again.shardsSkipped, 2);
  assert.deepEqual(srv.log.slice(before).map((l) => l.path), ['/pubmed/baseline/'], 'only the listing is fetched again');
});

test('ChemRxiv pages through /items with limit and skip, skips a malformed record, and extracts PDF full text', async (t) => {
  const srv = await server(t);
  const local = [...readLocalChemrxiv(join(findData('text').path, 'chemrxiv'))];
  const items = local.map((r, i) => ({
    id: `item${i}`, doi: `10.26434/chemrxiv-${i}`, title: r.title, abstract: r.abstract, license: { name: r.license }, publishedDate: '2024-01-01T00:00:00.000Z',
    asset: { mimeType: 'application/pdf', original: { url: `${srv.baseUrl}/pdf/item${i}.pdf` } },
  }));
  delete (items[60] as Partial<(typeof items)[0]>).id; // a malformed record, every time it is served
  srv.route('/engage/chemrxiv/public-api/v1/items', (u) => {
    const limit = Number(u.searchParams.get('limit'));
    const skip = Number(u.searchParams.get('skip'));
    assert.equal(u.searchParams.get('searchDateFrom'), '2024-01-01T00:00:00.000Z');
    return { body: JSON.stringify({ totalCount: items.length, itemHits: items.slice(skip, skip + limit).map((item) => ({ item })) }), headers: { 'content-type': 'application/json' } };
  });
  srv.route('/pdf/', (u) => ({ body: minimalPdf(`Full text of paper ${u.pathname.split('/').pop()!.replace('.pdf', '')} about catalysis.`), headers: { 'content-type': 'application/pdf' } }));
  srv.fault((u) => u.searchParams.get('skip') === '50', { kind: 'status', status: 429, retryAfter: '0' })
    .fault((u) => u.pathname === '/pdf/item3.pdf', { kind: 'cut' })
    .fault((u) => u.searchParams.get('skip') === '100', { kind: 'body', body: '{"totalCount": 153, "itemHits": [{"item": {"id": "x", "ti' });
  const { client } = fastClient();
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-chemrxiv-'));
  const warnings: string[] = [];
  const r = await downloadChemrxiv({ base: `${srv.baseUrl}/engage/chemrxiv/public-api/v1`, out, client, from: '2024-01-01T00:00:00.000Z', maxItems: 120, fullText: true, onWarn: (w) => warnings.push(w) });
  assert.equal(r.total, 120);
  assert.equal(r.records, 119);
  assert.equal(r.malformed, 1);
  assert.ok(warnings.some((w) => /itemHits\[10\]: item without an id/.test(w)));
  assert.deepEqual(srv.log.filter((l) => l.path.endsWith('/items')).map((l) => new URLSearchParams(l.query.slice(1)).get('skip')), ['0', '50', '50', '100', '100']);
  assert.equal(client.stats.retries, 3);
  const texts = readdirSync(out).filter((f) => f.startsWith('fulltext-'));
  assert.equal(texts.length, 119);
  assert.equal(readFileSync(join(out, 'fulltext-item3.txt'), 'utf8').trim(), 'Full text of paper item3 about catalysis.');
  assert.equal(noTemporaries(out).length, 0);
  // the download is a chemrxiv source for the corpus build
  const docs = [];
  for await (const d of sourceDocuments({ name: 'chemrxiv', dir: out })) docs.push(d);
  assert.equal(docs.length, 119);
  assert.ok(docs[3].blocks.includes('Full text of paper item3 about catalysis.'));
  // a restart requests nothing: the total and every page and PDF are on disk
  const before = srv.log.length;
  await downloadChemrxiv({ base: `${srv.baseUrl}/engage/chemrxiv/public-api/v1`, out, client, from: '2024-01-01T00:00:00.000Z', maxItems: 120, fullText: true });
  assert.equal(srv.log.length, before);
});

test('a persistent server failure ends in one UserError naming the request', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  srv.fault((u) => u.pathname.endsWith('esearch.fcgi'), { kind: 'status', status: 502 }, 100);
  const client = new HttpClient({ ratePerHost: 1000, retries: 2, sleep: async () => undefined });
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-fail-'));
  await assert.rejects(downloadEutils({ db: 'pubmed', term: 'x', out, client, identity, base: `${srv.baseUrl}/entrez/eutils` }),
    (e: unknown) => e instanceof UserError && /esearch\.fcgi: HTTP 502 after 3 attempt/.test(e.message));
  assert.ok(existsSync(join(out, 'job.json')));
});

test('the real ESearch and EPost replies parse into counts, ids and history handles', () => {
  const dir = findData('fixtures/eutils').path;
  const s1 = parseEsearch(readFileSync(join(dir, 'esearch1.xml'), 'utf8'));
  assert.equal(s1.count, 63);
  assert.equal(s1.ids.length, 20);
  assert.equal(s1.ids[0], '41282813');
  assert.equal(s1.webEnv, undefined);
  const s2 = parseEsearch(readFileSync(join(dir, 'esearch2.xml'), 'utf8'));
  assert.deepEqual([s2.count, s2.ids.length, s2.queryKey, s2.webEnv], [42249, 100, '1', 'MCID_6927d6e7fee3e90f880ec190']);
  assert.deepEqual(parseEpost(readFileSync(join(dir, 'epost1.xml'), 'utf8')), { queryKey: '1', webEnv: 'MCID_692851c130aec64bed0a8c2a', error: undefined });
});

test('a list of PMIDs is posted with EPost and fetched through its history handle', async (t) => {
  const srv = await server(t);
  routeEutils(srv);
  srv.route('/entrez/eutils/epost.fcgi', () => ({ body: readFileSync(join(findData('fixtures/eutils').path, 'epost1.xml')) }));
  const { client } = fastClient();
  t.after(() => client.close());
  const out = mkdtempSync(join(tmpdir(), 'dl-ids-'));
  const ids = ['29768149', '27797938', '28775130'];
  const r = await downloadEutils({ db: 'pubmed', ids, batchSize: 2, out, client, identity, base: `${srv.baseUrl}/entrez/eutils` });
  assert.equal(r.total, 3);
  assert.equal(r.shards, 2);
  assert.match(decodeURIComponent(srv.log.find((l) => l.path.endsWith('epost.fcgi'))!.query), /id=29768149,27797938,28775130/);
  assert.ok(srv.log.filter((l) => l.path.endsWith('efetch.fcgi')).every((l) => l.query.includes('WebEnv=MCID_692851c130aec64bed0a8c2a')));
  assert.equal(srv.count('/entrez/eutils/esearch.fcgi'), 0);
  await assert.rejects(downloadEutils({ db: 'pubmed', ids: ['123', 'abc'], out: mkdtempSync(join(tmpdir(), 'dl-ids-bad-')), client, identity }), /'abc' is not a PMID/);
});
