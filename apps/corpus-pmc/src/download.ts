// nx run corpus-pmc:download — PMC open-access articles as JATS XML through E-utilities (EFetch db=pmc),
// by query and date range. Resumable: rerun the same command after a failure or Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMON_FLAGS, Progress, UserError, defineCommand, runCli } from '@biore/runtime';
import { EUTILS_BASE, EUTILS_FLAGS, ncbiFromFlags } from '@biore/fetch';
import { defaultDownloadDir, downloadEutils } from '@biore/corpus';

const command = defineCommand({
  name: 'corpus-pmc:download',
  summary: 'PMC open-access articles as JATS XML through E-utilities (EFetch db=pmc), by query and date range or by PMCID list; rerun the same command to resume',
  examples: ['npx nx run corpus-pmc:download -- --query "chemokine receptor" --from 2020/01/01 --to 2020/12/31 --limit-docs 200 --email you@example.org'],
  flags: {
    ...EUTILS_FLAGS,
    batch: { ...COMMON_FLAGS.batch, max: 10000, default: 100, description: 'articles per EFetch request (one shard file each)' },
    out: { ...COMMON_FLAGS.out, description: 'download folder (a folder under corpora/downloads/pmc named after the query when absent)' },
  },
});

runCli(async () => {
  const f = command.parse();
  if (!f.query === !f.ids) throw new UserError('give --query "<Entrez query>" (the open access filter is added) with --from/--to dates, or --ids FILE (PMCIDs)');
  let ids: string[] | undefined;
  if (f.ids) {
    try { ids = readFileSync(f.ids, 'utf8').split(/[\s,]+/).filter(Boolean); } catch { throw new UserError('id list not found', { file: f.ids }); }
  }
  const { id, client } = ncbiFromFlags(f);
  const out = f.out ?? join(defaultDownloadDir('pmc'), `${f.query ?? `ids ${f.ids!.split('/').pop()}`} ${f.from ?? ''} ${f.to ?? ''}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60));
  console.error(`output: ${out}`);
  const ac = new AbortController();
  const stop = () => ac.abort(new UserError('interrupted; run the same command again to resume (finished shards are kept)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = new Progress('shards', 0, 'shards');
  try {
    const r = await downloadEutils({
      db: 'pmc', term: f.query, ids, mindate: f.from, maxdate: f.to, batchSize: f.batch,
      maxRecords: f['limit-docs'], out, client, identity: id, base: f['eutils-base'] ?? EUTILS_BASE,
      restart: f.force, signal: ac.signal,
      onShard: (_n, done, total) => { progress.setTotal(total); progress.tick(1, `${done}/${total} on disk`); },
      onWarn: (w) => process.stderr.write(`warning: ${w}\n`),
    });
    progress.end();
    console.log(JSON.stringify({ ...r, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
  } finally {
    await client.close();
  }
});
