// nx run studies:<table> | studies:run | studies:report | studies:list — the papers' tables as cached cells.
//   run     [--budget smoke|cpu|paper] [--table ID,…|all] [--cells GLOB,…] [--shard i/n] [--workers N] [--cache DIR] [--set GLOB:param=value]… [--max-cells N]
//   report  the same flags, plus [--out artifacts/report] [--bench FILE] [--no-run] [--partial]: runs what is missing, then writes index.html
//   list    the cells with their keys and whether they are done
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliArgv, defineCommand, runCli, UserError } from '@biore/runtime';
import { BUDGET_NAMES } from './budgets.ts';
import { TABLE_IDS } from './study.ts';
import { parseShard } from './cells.ts';
import { REPO } from './executors.ts';
import { writeReport } from './report.ts';
import { openSession, runSession, type Session } from './session.ts';
import type { RunSummary } from './runner.ts';

const log = (l: Record<string, unknown>) => process.stderr.write(JSON.stringify(l) + '\n');

type RunFlags = { budget: string; table?: string; cells?: string; cache?: string; set: string[]; workers: number; shard?: string; 'max-cells': number };

/**
 * `--workers N` on one machine: N child processes over the same cells and cache. They share the work through the
 * cells' locks (each takes the next cell nobody holds), so a slow cell does not leave the other workers idle as
 * a fixed split by key would.
 */
async function runWorkers(n: number, f: RunFlags): Promise<RunSummary[]> {
  const script = fileURLToPath(import.meta.url);
  const opt = (name: string, v: string | number | undefined) => (v === undefined ? [] : [`--${name}`, String(v)]);
  const args = ['run', ...opt('budget', f.budget), ...opt('table', f.table), ...opt('cells', f.cells), ...opt('cache', f.cache),
    ...f.set.flatMap((x) => ['--set', x]), ...opt('max-cells', f['max-cells'] || undefined)];
  return Promise.all(Array.from({ length: n }, (_, i) => new Promise<RunSummary>((res, rej) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
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

async function run(s: Session, f: RunFlags): Promise<Record<string, unknown>> {
  const workers = f.workers;
  if (workers > 1 && f.shard) throw new UserError('give --workers or --shard, not both (the workers share every cell of the run)');
  const summaries = workers > 1 ? await runWorkers(workers, f) : [await runSession(s, { shard: f.shard, maxCells: f['max-cells'], log })];
  const shard = parseShard(f.shard);
  return {
    budget: s.study.budget.name, tables: s.tables, cache: s.cache.root, shard: workers > 1 ? `${workers} workers` : `${shard.index}/${shard.count}`,
    cells: s.targets.length, owned: [...new Set(summaries.flatMap((x) => x.owned))], computed: summaries.flatMap((x) => x.computed),
    cached: [...new Set(summaries.flatMap((x) => x.cached))],
    failed: Object.assign({}, ...summaries.map((x) => x.failed)), seconds: Math.max(...summaries.map((x) => x.seconds)),
  };
}

const STUDIES = defineCommand({
  name: 'studies:run',
  summary: "the papers' tables as cached, resumable cells: run computes the chosen tables' missing cells, report also writes the HTML report, list shows every cell",
  examples: [
    'npx nx run studies:report --budget smoke',
    'npx nx run studies:run -- --budget cpu --table hiai-table2 --cells "re/chemprot/*" --workers 2',
    'npx nx run studies:list -- --budget cpu',
  ],
  positional: 'command',
  flags: {
    command: { type: 'string', default: 'run', choices: ['run', 'report', 'list'], description: 'what to do (also given as the bare first argument)' },
    budget: { type: 'string', default: 'smoke', choices: BUDGET_NAMES, description: 'the compute budget every cell is sized by' },
    table: { type: 'string', placeholder: 'ID,…|all', description: `tables to run: ${TABLE_IDS.join(', ')} or all (default all)` },
    cells: { type: 'string', placeholder: 'GLOB,…', description: "only the chosen tables' cells whose ids match one glob (e.g. 're/chemprot/*'), and what they need" },
    shard: { type: 'string', placeholder: 'i/n', description: "this machine's share of the cells (by key): shard i of n" },
    workers: { type: 'int', min: 1, default: 1, description: 'child processes on this machine sharing the cells through their locks (one core each)' },
    cache: { type: 'string', placeholder: 'DIR', description: 'the cell cache (default artifacts/studies/<budget>)' },
    set: { type: 'strings', placeholder: 'GLOB:param=value', description: 'override one param of the cells whose ids match (JSON values, else strings)' },
    'max-cells': { type: 'int', min: 0, default: 0, description: 'stop after computing this many cells (0: no limit)' },
    out: { type: 'string', default: 'artifacts/report', placeholder: 'DIR', description: 'report: the folder index.html is written to' },
    bench: { type: 'string', placeholder: 'FILE', description: "report: the Table 3 bench JSON (default artifacts/bench/table3.json)" },
    'no-run': { type: 'boolean', default: false, description: 'report: render what the cache holds, computing nothing' },
    partial: { type: 'boolean', default: false, description: 'report: accept missing cells (without it a report with holes exits 1, so Nx never caches one)' },
  },
});

runCli(async () => {
  const f = STUDIES.parse(cliArgv());
  const cmd = f.command;
  const s = openSession({ budget: f.budget, tables: f.table, cache: f.cache, set: f.set, cells: f.cells });
  if (s.overridden.length) log({ event: 'override', cells: s.overridden });
  if (cmd === 'list') {
    for (const id of [...s.study.matrix.cells.keys()].sort()) {
      const k = s.keys.get(id)!;
      console.log(`${s.cache.has(k) ? 'done   ' : 'pending'} ${k} ${id}`);
    }
    return;
  }
  if (cmd === 'run') {
    const summary = await run(s, f);
    console.log(JSON.stringify(summary));
    failIfFailed(summary);
    return;
  }
  let summary: Record<string, unknown> | undefined;
  if (!f['no-run']) { summary = await run(s, f); failIfFailed(summary); }
  const r = await writeReport(s, { out: f.out, bench: f.bench });
  // a report with holes must not be taken for the study's (nor cached by Nx as one): it fails unless --partial
  if (r.missing > 0 && !f.partial) throw new UserError(`${r.missing} cell(s) have no result; the report marks them 'not run' (${r.file}); run the missing cells, or pass --partial`);
  console.log(JSON.stringify({ report: r.file, missing: r.missing, ...(summary ? { computed: (summary.computed as string[]).length, cached: (summary.cached as string[]).length, seconds: Math.round(Number(summary.seconds)) } : {}) }));
});
