import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamValues } from 'stream-json/streamers/stream-values.js';
import { UserError } from '@biore/runtime';
import {
  EUTILS_BASE, PUBMED_BASELINE_BASE, RetryableError, ShardJob, ncbiParams,
  type HttpClient, type NcbiIdentity,
} from '@biore/fetch';
import { parsePubmed } from './pubmed.ts';
import { parseJats } from './pmc.ts';
import { CHEMRXIV_API, licenceAllowsText, normaliseApiItem, type ChemrxivItem } from './chemrxiv.ts';
import { pdfToText, unwrapPdfText } from './pdf.ts';
import { safeId } from './sources.ts';

/** What a download reports: the job folder, shards done now and before, records, and what was skipped. */
export interface DownloadReport {
  dir: string;
  total: number;
  shards: number;
  shardsSkipped: number;
  records: number;
  malformed: number;
  failed: string[];
}

export interface JobCommon {
  out: string;
  client: HttpClient;
  /** Discard the state of an earlier job with other parameters in `out`. */
  restart?: boolean;
  signal?: AbortSignal;
  /** Called after each finished (or skipped) shard. */
  onShard?: (name: string, done: number, total: number, skipped: boolean) => void;
  onWarn?: (msg: string) => void;
}

const pad = (n: number) => String(n).padStart(9, '0');

/** Records in a response, by the parser that will read it later; malformed XML is retried. */
async function countXmlRecords(body: Buffer, db: 'pubmed' | 'pmc', url: string): Promise<number> {
  let n = 0;
  try {
    const text = body.toString('utf8');
    const it = db === 'pubmed' ? parsePubmed([text], url) : parseJats([text], {}, url);
    for await (const _ of it) n++;
  } catch (e) {
    if (e instanceof UserError) throw new RetryableError(e.message);
    throw e;
  }
  return n;
}

function eutilsError(xml: string): string | undefined {
  const m = /<ERROR>([\s\S]*?)<\/ERROR>/.exec(xml);
  return m ? m[1].trim() : undefined;
}

export interface EsearchResult {
  count: number;
  queryKey: string;
  webEnv: string;
}

/** An ESearch reply: the hit count, the ids of this page, and the history-server handle when asked for. */
export function parseEsearch(xml: string): { count?: number; ids: string[]; queryKey?: string; webEnv?: string; error?: string } {
  const count = /<Count>(\d+)<\/Count>/.exec(xml)?.[1];
  const idList = /<IdList>([\s\S]*?)<\/IdList>/.exec(xml)?.[1] ?? '';
  return {
    count: count === undefined ? undefined : Number(count),
    ids: [...idList.matchAll(/<Id>(\d+)<\/Id>/g)].map((m) => m[1]),
    queryKey: /<QueryKey>([^<]+)<\/QueryKey>/.exec(xml)?.[1],
    webEnv: /<WebEnv>([^<]+)<\/WebEnv>/.exec(xml)?.[1],
    error: eutilsError(xml),
  };
}

/** An EPost reply: the history-server handle of the posted ids. */
export function parseEpost(xml: string): { queryKey?: string; webEnv?: string; error?: string } {
  const r = parseEsearch(xml);
  return { queryKey: r.queryKey, webEnv: r.webEnv, error: r.error };
}

/** ESearch with the history server: the hit count and the (WebEnv, query_key) that EFetch pages through. */
export async function esearch(
  client: HttpClient,
  o: { db: string; term: string; mindate?: string; maxdate?: string; datetype?: string; base?: string; identity: NcbiIdentity; signal?: AbortSignal },
): Promise<EsearchResult> {
  const url = `${o.base ?? EUTILS_BASE}/esearch.fcgi`;
  let res: EsearchResult | undefined;
  await client.getText(url, {
    method: 'POST',
    form: { db: o.db, term: o.term, usehistory: 'y', retmax: 0, mindate: o.mindate, maxdate: o.maxdate, datetype: o.mindate || o.maxdate ? o.datetype ?? 'pdat' : undefined, ...ncbiParams(o.identity) },
    signal: o.signal,
    validate: (xml) => {
      const r = parseEsearch(xml);
      if (r.error && r.count === undefined) throw new UserError(`ESearch error: ${r.error}`, { file: url });
      if (r.count === undefined || !r.queryKey || !r.webEnv) throw new RetryableError('ESearch response without Count/QueryKey/WebEnv');
      res = { count: r.count, queryKey: r.queryKey, webEnv: r.webEnv };
    },
  });
  return res!;
}

/** EPost: puts a list of ids on the history server, so EFetch can page through exactly those records. */
export async function epost(
  client: HttpClient,
  o: { db: string; ids: string[]; base?: string; identity: NcbiIdentity; signal?: AbortSignal },
): Promise<EsearchResult> {
  const url = `${o.base ?? EUTILS_BASE}/epost.fcgi`;
  let res: EsearchResult | undefined;
  await client.getText(url, {
    method: 'POST',
    form: { db: o.db, id: o.ids.join(','), ...ncbiParams(o.identity) },
    signal: o.signal,
    validate: (xml) => {
      const r = parseEpost(xml);
      if (r.error) throw new UserError(`EPost error: ${r.error}`, { file: url });
      if (!r.queryKey || !r.webEnv) throw new RetryableError('EPost response without QueryKey/WebEnv');
      res = { count: o.ids.length, queryKey: r.queryKey, webEnv: r.webEnv };
    },
  });
  return res!;
}

export interface EutilsDownloadOptions extends JobCommon {
  db: 'pubmed' | 'pmc';
  /** An Entrez query; for PMC the open-access filter is added (`AND open access[filter]`). */
  term?: string;
  /** Instead of a query: exactly these PMIDs / PMCIDs (posted with EPost). */
  ids?: string[];
  /** Publication date range (YYYY, YYYY/MM or YYYY/MM/DD). */
  mindate?: string;
  maxdate?: string;
  batchSize?: number;
  /** Stop after this many records (the first ones of the search). */
  maxRecords?: number;
  identity: NcbiIdentity;
  base?: string;
}

/**
 * Downloads a PubMed or PMC search (or a list of ids, via EPost) through E-utilities: ESearch on the history server, then EFetch in
 * batches, each batch one gzipped XML shard (`efetch-<retstart>.xml.gz`) checked by the parser before it is
 * kept. A restarted job re-runs ESearch (one request; the history server forgets) and fetches only missing shards.
 */
export async function downloadEutils(o: EutilsDownloadOptions): Promise<DownloadReport> {
  const batch = o.batchSize ?? (o.db === 'pubmed' ? 500 : 100);
  if (!(batch >= 1 && batch <= 10_000)) throw new UserError(`batch size must be 1..10000, got ${batch}`);
  if ((o.term === undefined) === (o.ids === undefined)) throw new UserError('give a query or a list of ids (not both)');
  if (o.ids) {
    if (o.ids.length === 0) throw new UserError('the id list is empty');
    const bad = o.ids.find((id) => !/^(PMC)?\d+$/i.test(id));
    if (bad !== undefined) throw new UserError(`'${bad}' is not a PMID or PMCID`);
  }
  const term = o.term === undefined ? undefined : o.db === 'pmc' && !/open access\[filter\]/i.test(o.term) ? `(${o.term}) AND open access[filter]` : o.term;
  const ids = o.ids?.map((id) => id.replace(/^PMC/i, ''));
  const params = {
    db: o.db, term, mindate: o.mindate, maxdate: o.maxdate, batchSize: batch, maxRecords: o.maxRecords,
    ids: ids ? { count: ids.length, sha256: createHash('sha256').update(ids.join(',')).digest('hex') } : undefined,
  };
  const job = ShardJob.open(o.out, `eutils-${o.db}`, params, { restart: o.restart });
  const search = ids
    ? await epost(o.client, { db: o.db, ids, base: o.base, identity: o.identity, signal: o.signal })
    : await esearch(o.client, { db: o.db, term: term!, mindate: o.mindate, maxdate: o.maxdate, base: o.base, identity: o.identity, signal: o.signal });
  const before = job.state.meta.count as number | undefined;
  if (before !== undefined && before !== search.count) {
    o.onWarn?.(`the search now has ${search.count} hits, not ${before} as when the job started: later shards may overlap or miss records (the corpus build de-duplicates)`);
  }
  job.setMeta('count', search.count);
  const total = Math.min(search.count, o.maxRecords ?? Infinity);
  const report: DownloadReport = { dir: o.out, total, shards: 0, shardsSkipped: 0, records: 0, malformed: 0, failed: [] };
  const nShards = Math.ceil(total / batch);
  const url = `${o.base ?? EUTILS_BASE}/efetch.fcgi`;
  for (let start = 0; start < total; start += batch) {
    o.signal?.throwIfAborted();
    const name = `efetch-${pad(start)}.xml.gz`;
    const retmax = Math.min(batch, total - start);
    const ran = await job.shard(name, async (w) => {
      let records = 0;
      const body = await o.client.getBuffer(url, {
        method: 'POST',
        form: { db: o.db, query_key: search.queryKey, WebEnv: search.webEnv, retstart: start, retmax, retmode: 'xml', ...ncbiParams(o.identity) },
        signal: o.signal,
        // a malformed or cut reply is fetched again under the retry policy
        validate: async (b) => {
          const err = eutilsError(b.subarray(0, 4000).toString('utf8'));
          if (err) throw new UserError(`EFetch error at retstart ${start}: ${err}`, { file: url });
          records = await countXmlRecords(b, o.db, `${url} (retstart ${start})`);
        },
      });
      await w.write(gzipSync(body));
      return { records, retstart: start, retmax };
    });
    if (ran) report.shards++;
    else report.shardsSkipped++;
    report.records += Number(job.state.shards[name]?.info?.records ?? 0);
    o.onShard?.(name, job.doneCount, nShards, !ran);
  }
  job.finish();
  return report;
}

export interface BaselineDownloadOptions extends JobCommon {
  /** The folder listing `pubmedNNnXXXX.xml.gz` and their `.md5` (the annual baseline or the daily updates). */
  base?: string;
  /** Exact file names; default: every file the listing shows. */
  files?: string[];
  /** Only the first N files of the listing. */
  limit?: number;
}

/** The `pubmed*.xml.gz` names an NCBI FTP-over-HTTPS folder listing shows, in order. */
export function parseBaselineListing(html: string): string[] {
  const names = new Set<string>();
  for (const m of html.matchAll(/(pubmed\d+n\d+\.xml\.gz)(?!\.md5)/g)) names.add(m[1]);
  return [...names].sort();
}

/**
 * Downloads PubMed baseline/update files, each checked against its published `.md5` and for gzip
 * integrity; each file is one shard of the job, so a restart skips the files already verified.
 */
export async function downloadBaseline(o: BaselineDownloadOptions): Promise<DownloadReport> {
  const base = (o.base ?? PUBMED_BASELINE_BASE).replace(/\/$/, '');
  let files = o.files;
  if (!files) {
    const html = await o.client.getText(`${base}/`, { signal: o.signal });
    files = parseBaselineListing(html);
    if (files.length === 0) throw new UserError('the listing names no pubmed*.xml.gz files', { file: `${base}/` });
  }
  if (o.limit !== undefined) files = files.slice(0, o.limit);
  for (const f of files) if (!/^pubmed\d+n\d+\.xml\.gz$/.test(f)) throw new UserError(`not a PubMed baseline file name: '${f}'`);
  const job = ShardJob.open(o.out, 'pubmed-baseline', { base, files }, { restart: o.restart });
  const report: DownloadReport = { dir: o.out, total: files.length, shards: 0, shardsSkipped: 0, records: 0, malformed: 0, failed: [] };
  for (const f of files) {
    o.signal?.throwIfAborted();
    if (job.isDone(f)) {
      report.shardsSkipped++;
      o.onShard?.(f, job.doneCount, files.length, true);
      continue;
    }
    const md5Text = await o.client.getText(`${base}/${f}.md5`, {
      signal: o.signal,
      validate: (t) => { if (!/\b[0-9a-f]{32}\b/i.test(t)) throw new RetryableError('an .md5 file without a digest'); },
    });
    const md5 = /\b([0-9a-f]{32})\b/i.exec(md5Text)![1];
    const r = await o.client.download(`${base}/${f}`, job.shardPath(f), { md5, checkGzip: true, signal: o.signal });
    job.record(f, { file: f, bytes: r.bytes, sha256: r.sha256, finishedAt: new Date().toISOString(), info: { md5 } });
    report.shards++;
    o.onShard?.(f, job.doneCount, files.length, false);
  }
  job.finish();
  return report;
}

export interface ChemrxivDownloadOptions extends JobCommon {
  base?: string;
  /** ISO dates for `searchDateFrom` / `searchDateTo`. */
  from?: string;
  to?: string;
  term?: string;
  /** Items a page (the API allows at most 50). */
  pageSize?: number;
  maxItems?: number;
  /** Extract full text from the PDF of items whose licence allows derived text. */
  fullText?: boolean;
  allowNonCommercial?: boolean;
}

/** Parses one `/items` page with stream-json: totalCount and the items (malformed ones reported, not kept). */
export async function parseChemrxivPage(body: Buffer | string, where: string): Promise<{ totalCount: number; items: ChemrxivItem[]; malformed: string[] }> {
  let totalCount: number | undefined;
  const items: ChemrxivItem[] = [];
  const malformed: string[] = [];
  let k = 0;
  try {
    await pipeline(
      Readable.from([typeof body === 'string' ? Buffer.from(body) : body]),
      parser.asStream(),
      pick.asStream({ filter: /^(totalCount|itemHits\.\d+\.item)$/ }),
      streamValues.asStream(),
      async (src: AsyncIterable<{ value: unknown }>) => {
        for await (const { value } of src) {
          if (typeof value === 'number') {
            totalCount = value;
            continue;
          }
          k++;
          const it = normaliseApiItem(value);
          if ('malformed' in it) malformed.push(`itemHits[${k - 1}]: ${it.malformed}`);
          else items.push(it);
        }
      },
    );
  } catch (e) {
    throw new RetryableError(`malformed JSON from ${where} (${(e as Error).message})`);
  }
  if (totalCount === undefined) throw new RetryableError(`${where}: response without totalCount`);
  return { totalCount, items, malformed };
}

/**
 * Downloads ChemRxiv through its public API: `/items` paged with `limit` and `skip` (and date filters), each
 * page one `items-<skip>.jsonl` shard; with `fullText`, the PDF of each item whose licence allows derived
 * text becomes a `fulltext-<id>.txt` shard extracted with pdf.js.
 */
export async function downloadChemrxiv(o: ChemrxivDownloadOptions): Promise<DownloadReport> {
  const base = (o.base ?? CHEMRXIV_API).replace(/\/$/, '');
  const pageSize = o.pageSize ?? 50;
  if (!(pageSize >= 1 && pageSize <= 50)) throw new UserError(`ChemRxiv pages hold 1..50 items, got ${pageSize}`);
  const params = { base, from: o.from, to: o.to, term: o.term, pageSize, maxItems: o.maxItems, fullText: Boolean(o.fullText), allowNonCommercial: o.allowNonCommercial ?? true };
  const job = ShardJob.open(o.out, 'chemrxiv', params, { restart: o.restart });
  const url = `${base}/items`;
  const report: DownloadReport = { dir: o.out, total: 0, shards: 0, shardsSkipped: 0, records: 0, malformed: 0, failed: [] };
  const fetchPage = async (skip: number) => {
    let page: Awaited<ReturnType<typeof parseChemrxivPage>> | undefined;
    await o.client.getBuffer(url, {
      query: { limit: pageSize, skip, searchDateFrom: o.from, searchDateTo: o.to, term: o.term, sort: 'PUBLISHED_DATE_ASC' },
      headers: { accept: 'application/json' },
      signal: o.signal,
      validate: async (b) => { page = await parseChemrxivPage(b, `${url}?skip=${skip}`); },
    });
    return page!;
  };
  let total = job.state.meta.totalCount as number | undefined;
  for (let skip = 0; total === undefined || skip < Math.min(total, o.maxItems ?? Infinity); skip += pageSize) {
    o.signal?.throwIfAborted();
    const name = `items-${pad(skip)}.jsonl`;
    let items: ChemrxivItem[];
    const pageSkipped = job.isDone(name);
    if (pageSkipped) {
      report.shardsSkipped++;
      items = readFileSync(job.shardPath(name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChemrxivItem);
    } else {
      const page = await fetchPage(skip);
      if (total === undefined) {
        total = page.totalCount;
        job.setMeta('totalCount', total);
      }
      const limit = Math.min(total, o.maxItems ?? Infinity) - skip;
      items = page.items.slice(0, Math.max(0, limit));
      for (const m of page.malformed) o.onWarn?.(`${url}?skip=${skip}: skipped malformed record ${m}`);
      await job.shard(name, async (w) => {
        for (const it of items) await w.write(JSON.stringify(it) + '\n');
        return { items: items.length, malformed: page.malformed };
      });
      report.shards++;
      if (page.items.length === 0 && page.malformed.length === 0) break; // the API ran out before totalCount
    }
    report.records += items.length;
    report.malformed += (job.state.shards[name]?.info?.malformed as string[] | undefined)?.length ?? 0;
    if (o.fullText) {
      for (const it of items) {
        if (!it.pdfUrl || !licenceAllowsText(it.license, params.allowNonCommercial)) continue;
        const ft = `fulltext-${safeId(it.id)}.txt`;
        if (job.isDone(ft)) {
          report.shardsSkipped++;
          continue;
        }
        try {
          await job.shard(ft, async (w) => {
            let text = '';
            await o.client.getBuffer(it.pdfUrl!, {
              signal: o.signal,
              validate: async (b) => {
                if (b.subarray(0, 5).toString('latin1') !== '%PDF-') throw new RetryableError('not a PDF (no %PDF- header)');
                text = unwrapPdfText(await pdfToText(b, it.pdfUrl));
              },
            });
            await w.write(text + '\n');
            return { pdf: it.pdfUrl, chars: text.length };
          });
          report.shards++;
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          report.failed.push(`${it.id}: ${e.message}`);
          o.onWarn?.(`no full text for ${it.id}: ${e.message}`);
        }
      }
    }
    o.onShard?.(name, skip / pageSize + 1, Math.ceil(Math.min(total ?? 0, o.maxItems ?? Infinity) / pageSize), pageSkipped);
  }
  report.total = Math.min(total ?? 0, o.maxItems ?? Infinity);
  job.finish();
  return report;
}
