// nx run corpus-pubmed:download — PubMed abstracts by query and date range (E-utilities), or the annual
// baseline / daily update files. Resumable: rerun the same command after a failure or Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMON_FLAGS, Progress, UserError, defineCommand, runCli } from '@biore/runtime';
import { EUTILS_BASE, EUTILS_FLAGS, PUBMED_BASELINE_BASE, PUBMED_UPDATES_BASE, ncbiFromFlags } from '@biore/fetch';
import { defaultDownloadDir, downloadBaseline, downloadEutils, type DownloadReport } from '@biore/corpus';
import { interruptSignal, slug } from './common.ts';

/** PMIDs from a file: one a line, or separated by commas or spaces. */
function readIds(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { throw new UserError('id list not found', { file }); }
  const ids = text.split(/[\s,]+/).filter(Boolean);
  const bad = ids.findIndex((x) => !/^\d+$/.test(x));
  if (bad >= 0) throw new UserError(`'${ids[bad]}' is not a PMID`, { file, record: bad + 1 });
  return ids;
}

const command = defineCommand({
  name: 'corpus-pubmed:download',
  summary: 'PubMed abstracts by query and date range (E-utilities), or the annual baseline / daily update files; rerun the same command to resume',
  examples: [
    'npx nx run corpus-pubmed:download -- --query "chemokine AND receptor" --from 2020/01/01 --to 2020/12/31 --limit-docs 2000 --email you@example.org',
    'npx nx run corpus-pubmed:download -- --baseline --limit-files 2',
  ],
  flags: {
    ...EUTILS_FLAGS,
    batch: { ...COMMON_FLAGS.batch, max: 10000, default: 500, description: 'records per EFetch request (one shard file each)' },
    baseline: { type: 'boolean', description: 'download the annual baseline files instead of a query' },
    updates: { type: 'boolean', description: 'download the daily update files instead of a query' },
    files: { type: 'string', placeholder: 'A,B', description: 'with --baseline/--updates: only these file names, comma-separated' },
    'limit-files': { type: 'int', min: 1, deprecated: ['limit'], description: 'with --baseline/--updates: only the first N files' },
    out: { ...COMMON_FLAGS.out, description: 'download folder (a folder under corpora/downloads/pubmed named after the query when absent)' },
    'files-base': { type: 'string', placeholder: 'URL', description: 'base URL of the baseline / update files' },
  },
});

runCli(async () => {
  const f = command.parse();
  const { id, client } = ncbiFromFlags(f);
  const signal = interruptSignal();
  const progress = new Progress('shards', 0, 'shards');
  const onShard = (_n: string, done: number, total: number) => { progress.setTotal(total); progress.tick(1, `${done}/${total} on disk`); };
  const onWarn = (w: string) => process.stderr.write(`warning: ${w}\n`);
  let report: DownloadReport;
  try {
    if (f.baseline || f.updates) {
      if (f.query) throw new UserError('--query searches E-utilities; --baseline/--updates download whole files: use one or the other');
      const kind = f.updates ? 'updatefiles' : 'baseline';
      const out = f.out ?? join(defaultDownloadDir('pubmed'), kind);
      console.error(`output: ${out}`);
      report = await downloadBaseline({
        base: f['files-base'] ?? (f.updates ? PUBMED_UPDATES_BASE : PUBMED_BASELINE_BASE), out, client, signal, restart: f.force,
        files: f.files?.split(',').map((s) => s.trim()).filter(Boolean), limit: f['limit-files'], onShard, onWarn,
      });
    } else {
      if (!f.query === !f.ids) throw new UserError('give --query "<Entrez query>" (with --from/--to dates), or --ids FILE (PMIDs), or --baseline / --updates');
      const ids = f.ids ? readIds(f.ids) : undefined;
      const out = f.out ?? join(defaultDownloadDir('pubmed'), f.ids ? slug(`ids ${f.ids.split('/').pop()}`) : slug(`${f.query} ${f.from ?? ''} ${f.to ?? ''}`));
      console.error(`output: ${out}`);
      report = await downloadEutils({
        db: 'pubmed', term: f.query, ids, mindate: f.from, maxdate: f.to, batchSize: f.batch,
        maxRecords: f['limit-docs'], out, client, identity: id, base: f['eutils-base'] ?? EUTILS_BASE,
        signal, restart: f.force, onShard, onWarn,
      });
    }
  } finally {
    await client.close();
  }
  progress.end();
  console.log(JSON.stringify({ ...report, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
});
