// nx run corpus-chemrxiv:download — ChemRxiv preprints through the public API (/items paged with limit and skip,
// date filters): metadata and abstracts, and with --full-text the text of each openly licensed PDF (pdf.js).
import { join } from 'node:path';
import { Progress, UserError, numFlag, parseFlags, runCli } from '@biore/runtime';
import { HttpClient } from '@biore/fetch';
import { CHEMRXIV_API, defaultDownloadDir, downloadChemrxiv } from '@biore/corpus';

const isoDate = (v: string | undefined, flag: string) => {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UserError(`--${flag} expects a date such as 2023-01-31, got '${v}'`);
  return new Date(t).toISOString();
};

runCli(async () => {
  const { values: f } = parseFlags({
    from: { type: 'string' }, to: { type: 'string' }, term: { type: 'string' }, max: { type: 'string' }, 'page-size': { type: 'string' },
    'full-text': { type: 'boolean' }, 'no-nc': { type: 'boolean' }, out: { type: 'string' }, restart: { type: 'boolean' },
    'api-base': { type: 'string' }, rate: { type: 'string' }, email: { type: 'string' },
  });
  const client = new HttpClient({
    ratePerHost: f.rate ? Number(f.rate) : 2,
    userAgent: `biore/0.1 (corpus builder${f.email ?? process.env.NCBI_EMAIL ? `; mailto:${f.email ?? process.env.NCBI_EMAIL}` : ''})`,
    onRetry: (r) => process.stderr.write(`retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s (${r.reason}): ${r.url}\n`),
  });
  const from = isoDate(f.from, 'from');
  const to = isoDate(f.to, 'to');
  const out = f.out ?? join(defaultDownloadDir('chemrxiv'), `${f.term ?? 'all'}-${f.from ?? 'start'}-${f.to ?? 'now'}`.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  console.error(`API: ${f['api-base'] ?? CHEMRXIV_API}; output: ${out}`);
  const ac = new AbortController();
  const stop = () => ac.abort(new UserError('interrupted; run the same command again to resume (finished shards are kept)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = new Progress('pages', 0, 'pages');
  try {
    const r = await downloadChemrxiv({
      base: f['api-base'], out, client, from, to, term: f.term, maxItems: f.max ? numFlag(f.max, 'max', 0) : undefined,
      pageSize: numFlag(f['page-size'], 'page-size', 50), fullText: f['full-text'], allowNonCommercial: !f['no-nc'], restart: f.restart, signal: ac.signal,
      onShard: (_n, _d, total) => { progress.setTotal(total); progress.tick(); },
      onWarn: (w) => process.stderr.write(`warning: ${w}\n`),
    });
    progress.end();
    console.log(JSON.stringify({ ...r, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
  } finally {
    await client.close();
  }
});
