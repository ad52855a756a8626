// nx run studies:<table> | studies:run | studies:report | studies:list — the papers' tables as cached cells.
//   run     [--budget smoke|cpu|paper] [--table ID,…|all] [--shard i/n] [--workers N] [--cache DIR] [--set GLOB:param=value]… [--max-cells N]
//   report  the same flags, plus [--out artifacts/report] [--bench FILE] [--no-run] [--partial]: runs what is missing, then writes index.html
//   list    the cells with their keys and whether they are done
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { numFlag, parseFlags, runCli, UserError } from '@biore/runtime';
import { parseShard } from './cells.ts';
import { REPO } from './executors.ts';
import { writeReport } from './report.ts';
import { openSession, runSession, type Session } from './session.ts';
import type { RunSummary } from './runner.ts';

const log = (l: Record<string, unknown>) => process.stderr.write(JSON.stringify(l) + '\n');

/** `--workers N` on one machine: N child processes, shard i/N each, into the same cache. */
async function runWorkers(n: number, argv: string[]): Promise<RunSummary[]> {
  const script = fileURLToPath(import.meta.url);
  const base = argv.filter((a, i) => !(a === '--workers' || argv[i - 1] === '--workers' || a.startsWith('--workers=')));
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<RunSummary>((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, 'run', ...base.filter((a) => a !== 'run' && a !== 'report'), '--shard', `${i + 1}/${n}`], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => {
      try { res(JSON.parse(out.trim().split('\n').pop()!)); } catch { rej(new UserError(`worker ${i + 1}/${n} exited with ${code} and printed no summary`)); }
    });
  })));
}

function failIfFailed(summary: Record<string, unknown>): void {
  const failed = Object.entries(summary.failed as Record<string, string>);
  if (failed.length) throw new UserError(`${failed.length} cell(s) failed: ${failed.slice(0, 5).map(([id, e]) => `${id} (${e})`).join('; ')}${failed.length > 5 ? ' …' : ''}`);
}

async function run(s: Session, f: Record<string, unknown>, argv: string[]): Promise<Record<string, unknown>> {
  const workers = numFlag(f.workers as string | undefined, 'workers', 1);
  if (workers > 1 && f.shard) throw new UserError('give --workers or --shard, not both (each worker is a shard)');
  const summaries = workers > 1 ? await runWorkers(workers, argv) : [await runSession(s, { shard: f.shard as string | undefined, maxCells: numFlag(f['max-cells'] as string | undefined, 'max-cells', 0), log })];
  const shard = parseShard(f.shard as string | undefined);
  return {
    budget: s.study.budget.name, tables: s.tables, cache: s.cache.root, shard: workers > 1 ? `${workers} workers` : `${shard.index}/${shard.count}`,
    cells: s.targets.length, owned: summaries.flatMap((x) => x.owned), computed: summaries.flatMap((x) => x.computed), cached: summaries.flatMap((x) => x.cached),
    failed: Object.assign({}, ...summaries.map((x) => x.failed)), seconds: Math.max(...summaries.map((x) => x.seconds)),
  };
}

runCli(async () => {
  const argv = process.argv.slice(2);
  const { values: f, positionals } = parseFlags({
    budget: { type: 'string', default: 'smoke' }, table: { type: 'string' }, shard: { type: 'string' }, workers: { type: 'string' },
    cache: { type: 'string' }, set: { type: 'string', multiple: true }, 'max-cells': { type: 'string' },
    out: { type: 'string' }, bench: { type: 'string' }, 'no-run': { type: 'boolean', default: false }, partial: { type: 'boolean', default: false },
  }, argv);
  const cmd = positionals[0] ?? 'run';
  const s = openSession({ budget: f.budget!, tables: f.table, cache: f.cache, set: f.set });
  if (s.overridden.length) log({ event: 'override', cells: s.overridden });
  if (cmd === 'list') {
    for (const id of [...s.study.matrix.cells.keys()].sort()) {
      const k = s.keys.get(id)!;
      console.log(`${s.cache.has(k) ? 'done   ' : 'pending'} ${k} ${id}`);
    }
    return;
  }
  if (cmd === 'run') {
    const summary = await run(s, f, argv);
    console.log(JSON.stringify(summary));
    failIfFailed(summary);
    return;
  }
  if (cmd === 'report') {
    let summary: Record<string, unknown> | undefined;
    if (!f['no-run']) { summary = await run(s, f, argv); failIfFailed(summary); }
    const r = await writeReport(s, { out: f.out ?? 'artifacts/report', bench: f.bench });
    // a report with holes must not be taken for the study's (nor cached by Nx as one): it fails unless --partial
    if (r.missing > 0 && !f.partial) throw new UserError(`${r.missing} cell(s) have no result; the report marks them 'not run' (${r.file}); run the missing cells, or pass --partial`);
    console.log(JSON.stringify({ report: r.file, missing: r.missing, ...(summary ? { computed: (summary.computed as string[]).length, cached: (summary.cached as string[]).length, seconds: Math.round(Number(summary.seconds)) } : {}) }));
    return;
  }
  throw new UserError(`unknown command '${cmd}'; expected run, report or list`);
});
