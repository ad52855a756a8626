// nx run corpus-pubmed:download — PubMed abstracts by query and date range (E-utilities), or the annual
// baseline / daily update files. Resumable: rerun the same command after a failure or Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Progress, UserError, numFlag, parseFlags, runCli } from '@biore/runtime';
import { EUTILS_BASE, PUBMED_BASELINE_BASE, PUBMED_UPDATES_BASE } from '@biore/fetch';
import { defaultDownloadDir, downloadBaseline, downloadEutils, type DownloadReport } from '@biore/corpus';
import { NCBI_FLAGS, interruptSignal, ncbiFromFlags, slug } from './common.ts';

/** PMIDs from a file: one a line, or separated by commas or spaces. */
function readIds(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { throw new UserError('id list not found', { file }); }
  const ids = text.split(/[\s,]+/).filter(Boolean);
  const bad = ids.findIndex((x) => !/^\d+$/.test(x));
  if (bad >= 0) throw new UserError(`'${ids[bad]}' is not a PMID`, { file, record: bad + 1 });
  return ids;
}

runCli(async () => {
  const { values: f } = parseFlags({
    query: { type: 'string' }, ids: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, batch: { type: 'string' }, max: { type: 'string' },
    baseline: { type: 'boolean' }, updates: { type: 'boolean' }, files: { type: 'string' }, limit: { type: 'string' },
    out: { type: 'string' }, restart: { type: 'boolean' }, 'eutils-base': { type: 'string' }, 'files-base': { type: 'string' },
    ...NCBI_FLAGS,
  });
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
        base: f['files-base'] ?? (f.updates ? PUBMED_UPDATES_BASE : PUBMED_BASELINE_BASE), out, client, signal, restart: f.restart,
        files: f.files?.split(',').map((s) => s.trim()).filter(Boolean), limit: f.limit ? numFlag(f.limit, 'limit', 0) : undefined, onShard, onWarn,
      });
    } else {
      if (!f.query === !f.ids) throw new UserError('give --query "<Entrez query>" (with --from/--to dates), or --ids FILE (PMIDs), or --baseline / --updates');
      const ids = f.ids ? readIds(f.ids) : undefined;
      const out = f.out ?? join(defaultDownloadDir('pubmed'), f.ids ? slug(`ids ${f.ids.split('/').pop()}`) : slug(`${f.query} ${f.from ?? ''} ${f.to ?? ''}`));
      console.error(`output: ${out}`);
      report = await downloadEutils({
        db: 'pubmed', term: f.query, ids, mindate: f.from, maxdate: f.to, batchSize: numFlag(f.batch, 'batch', 500),
        maxRecords: f.max ? numFlag(f.max, 'max', 0) : undefined, out, client, identity: id, base: f['eutils-base'] ?? EUTILS_BASE,
        signal, restart: f.restart, onShard, onWarn,
      });
    }
  } finally {
    await client.close();
  }
  progress.end();
  console.log(JSON.stringify({ ...report, requests: client.stats.requests, retries: client.stats.retries, retryReasons: client.stats.retryReasons, bytes: client.stats.bytes }));
});
