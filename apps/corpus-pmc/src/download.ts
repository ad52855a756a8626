// nx run corpus-pmc:download — PMC open-access articles as JATS XML through E-utilities (EFetch db=pmc),
// by query and date range. Resumable: rerun the same command after a failure or Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, UserError, numFlag, parseFlags, runCli } from '@biore/runtime';
import { EUTILS_BASE, HttpClient, ncbiClientOptions, ncbiIdentity } from '@biore/fetch';
import { defaultDownloadDir, downloadEutils } from '@biore/corpus';

runCli(async () => {
  const { values: f } = parseFlags({
    query: { type: 'string' }, ids: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, batch: { type: 'string' }, max: { type: 'string' },
    out: { type: 'string' }, restart: { type: 'boolean' }, 'eutils-base': { type: 'string' },
    email: { type: 'string' }, tool: { type: 'string' }, 'api-key': { type: 'string' },
  });
  if (!f.query === !f.ids) throw new UserError('give --query "<Entrez query>" (the open access filter is added) with --from/--to dates, or --ids FILE (PMCIDs)');
  let ids: string[] | undefined;
  if (f.ids) {
    try { ids = readFileSync(f.ids, 'utf8').split(/[\s,]+/).filter(Boolean); } catch { throw new UserError('id list not found', { file: f.ids }); }
  }
  const id = ncbiIdentity({ email: f.email, tool: f.tool, apiKey: f['api-key'] });
  const client = new HttpClient(ncbiClientOptions(id, {
    onRetry: (r) => process.stderr.write(`retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s (${r.reason}): ${r.url}\n`),
  }));
  console.error(`NCBI: tool=${id.tool}${id.email ? ` email=${id.email}` : ' (no --email / NCBI_EMAIL: NCBI asks for one)'}, ${id.apiKey ? 10 : 3} requests/s`);
  const out = f.out ?? join(defaultDownloadDir('pmc'), `${f.query ?? `ids ${f.ids!.split('/').pop()}`} ${f.from ?? ''} ${f.to ?? ''}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60));
  console.error(`output: ${out}`);
  const ac = new AbortController();
  const stop = () => ac.abort(new UserError('interrupted; run the same command again to resume (finished shards are kept)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = new Progress('shards', 0, 'shards');
  try {
    const r = await downloadEutils({
      db: 'pmc', term: f.query, ids, mindate: f.from, maxdate: f.to, batchSize: numFlag(f.batch, 'batch', 100),
      maxRecords: f.max ? numFlag(f.max, 'max', 0) : undefined, out, client, identity: id, base: f['eutils-base'] ?? EUTILS_BASE,
      restart: f.restart, signal: ac.signal,
      onShard: (_n, done, total) => { progress.setTotal(total); progress.tick(1, `${done}/${total} on disk`); },
      onWarn: (w) => process.stderr.write(`warning: ${w}\n`),
    });
    progress.end();
    console.log(JSON.stringify({ ...r, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
  } finally {
    await client.close();
  }
});
