// nx run corpus-chemrxiv:download — ChemRxiv preprints through the public API (/items paged with limit and skip,
// date filters): metadata and abstracts, and with --full-text the text of each openly licensed PDF (pdf.js).
import { join } from 'node:path';
import { COMMON_FLAGS, Progress, UserError, defineCommand, runCli } from '@biore/runtime';
import { HttpClient } from '@biore/fetch';
import { CHEMRXIV_API, defaultDownloadDir, downloadChemrxiv } from '@biore/corpus';

const isoDate = (v: string | undefined, flag: string) => {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UserError(`--${flag} expects a date such as 2023-01-31, got '${v}'`);
  return new Date(t).toISOString();
};

const command = defineCommand({
  name: 'corpus-chemrxiv:download',
  summary: 'ChemRxiv preprints through the public API: metadata and abstracts, and with --full-text the text of each openly licensed PDF; rerun the same command to resume',
  examples: ['npx nx run corpus-chemrxiv:download -- --term catalysis --from 2023-01-01 --to 2023-03-31 --limit-docs 500'],
  flags: {
    from: { type: 'string', placeholder: 'YYYY-MM-DD', description: 'first publication date' },
    to: { type: 'string', placeholder: 'YYYY-MM-DD', description: 'last publication date' },
    term: { type: 'string', placeholder: 'WORDS', description: 'search term' },
    'limit-docs': { ...COMMON_FLAGS['limit-docs'], deprecated: ['max'], description: 'fetch at most N items (all when absent)' },
    'page-size': { type: 'int', min: 1, max: 50, default: 50, description: 'items per /items request (the API allows at most 50)' },
    'full-text': { type: 'boolean', description: 'also fetch each openly licensed PDF and keep its text' },
    'no-nc': { type: 'boolean', description: 'with --full-text: skip non-commercial (NC) licences too' },
    out: { ...COMMON_FLAGS.out, description: 'download folder (a folder under corpora/downloads/chemrxiv named after the term and dates when absent)' },
    force: { ...COMMON_FLAGS.force, deprecated: ['restart'], description: 'start over: discard the shards already downloaded (a rerun resumes otherwise)' },
    'api-base': { type: 'string', placeholder: 'URL', description: `API base URL (${CHEMRXIV_API} when absent)` },
    rate: { type: 'number', min: 0, exclusiveMin: true, default: 2, description: 'requests per second' },
    email: { type: 'string', placeholder: 'ADDRESS', description: 'contact address for the user agent (else NCBI_EMAIL)' },
  },
});

runCli(async () => {
  const f = command.parse();
  const client = new HttpClient({
    ratePerHost: f.rate,
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
      base: f['api-base'], out, client, from, to, term: f.term, maxItems: f['limit-docs'],
      pageSize: f['page-size'], fullText: f['full-text'], allowNonCommercial: !f['no-nc'], restart: f.force, signal: ac.signal,
      onShard: (_n, _d, total) => { progress.setTotal(total); progress.tick(); },
      onWarn: (w) => process.stderr.write(`warning: ${w}\n`),
    });
    progress.end();
    console.log(JSON.stringify({ ...r, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
  } finally {
    await client.close();
  }
});
