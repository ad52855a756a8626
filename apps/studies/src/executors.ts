// How each kind of cell is computed. Pre-training cells run the apps' own commands as child processes with
// flags (the same entry points a user types), RE cells call re-model's runExperiment, attention cells
// predict with a trained model. Each writes into its cell's out/ folder and returns a small JSON result.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@biore/runtime';
import type { ExperimentSpec } from '@biore/re-model';
import type { CellDef, Json } from './cells.ts';
import { attentionCell } from './attention.ts';
import { runExperimentCell } from './re-cell.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface CellContext {
  /** the cell's output folder (empty when the cell starts) */
  out: string;
  /** the cell folder (log.txt goes here) */
  dir: string;
  /** params with every dependency reference replaced by a path into that dependency's output */
  params: { [k: string]: Json };
  /** a dependency's record: its output folder, result and params */
  dep(name: string): { out: string; result: Record<string, unknown>; params: unknown };
}

export type Executor = (cell: CellDef, ctx: CellContext) => Promise<Record<string, unknown>>;

/** Runs `tsx <script> ...args` from the repo root, its output to log.txt; resolves with the last JSON line it printed on stdout. */
export function runApp(script: string, args: string[], logFile: string): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`$ tsx ${script} ${args.join(' ')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BIORE_QUIET: '1' } });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; log.write(d); });
    child.stderr.on('data', (d) => log.write(d));
    child.on('error', rej);
    child.on('close', (code, signal) => {
      log.end();
      if (code !== 0) return rej(new Error(`${script} ${args.join(' ')} exited with ${signal ?? code}; see ${logFile}`));
      const lines = stdout.trim().split('\n').filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['));
      let parsed: Record<string, unknown> = {};
      // the apps print one JSON summary (possibly pretty-printed): try the whole output, then the last line
      try { parsed = JSON.parse(stdout.slice(stdout.indexOf('{'))); } catch { try { parsed = JSON.parse(lines[lines.length - 1] ?? '{}'); } catch { parsed = {}; } }
      res(parsed);
    });
  });
}

const flag = (name: string, v: Json | undefined): string[] => (v === undefined || v === null || v === false ? [] : v === true ? [`--${name}`] : [`--${name}`, String(v)]);
const flags = (o: { [k: string]: Json }, skip: string[] = []) => Object.entries(o).filter(([k]) => !skip.includes(k)).flatMap(([k, v]) => flag(k, v));

/** The first `lines` sentences of a built corpus (train; a tenth of that from valid and test), in flair's layout plus train as one text.txt. */
function sampleCorpus(corpusDir: string, lines: number, out: string): Record<string, unknown> {
  const trainDir = join(corpusDir, 'train');
  const trainFiles = readdirSync(trainDir).filter((f) => f.startsWith('train_split_')).sort((a, b) => Number(a.slice(12)) - Number(b.slice(12)));
  const take = (files: string[], n: number) => {
    const got: string[] = [];
    for (const f of files) {
      for (const l of readFileSync(f, 'utf8').split('\n')) {
        if (!l.trim()) continue;
        got.push(l);
        if (n > 0 && got.length >= n) return got;
      }
    }
    return got;
  };
  const train = take(trainFiles.map((f) => join(trainDir, f)), lines);
  const small = lines > 0 ? Math.max(20, Math.round(lines / 10)) : 0;
  const valid = take([join(corpusDir, 'valid.txt')], small);
  const test = take([join(corpusDir, 'test.txt')], small);
  mkdirSync(join(out, 'train'), { recursive: true });
  writeFileSync(join(out, 'train', 'train_split_1'), train.join('\n') + '\n');
  writeFileSync(join(out, 'valid.txt'), valid.join('\n') + '\n');
  writeFileSync(join(out, 'test.txt'), test.join('\n') + '\n');
  writeFileSync(join(out, 'text.txt'), train.join('\n') + '\n');
  return { train: train.length, valid: valid.length, test: test.length, tokens: train.reduce((s, l) => s + l.split(/\s+/).length, 0) };
}

export const executors: Record<string, Executor> = {
  corpus: async (_c, ctx) => {
    const r = await runApp('apps/corpus/src/build.ts', ['--preset', String(ctx.params.preset), '--out', ctx.out], join(ctx.dir, 'log.txt'));
    return { documents: r.documents, sentences: r.sentences, tokens: r.tokens };
  },
  'corpus-sample': async (_c, ctx) => sampleCorpus(String(ctx.params.corpus), Number(ctx.params.lines), ctx.out),
  glove: async (_c, ctx) => {
    const r = await runApp('apps/glove/src/build.ts', [...flags(ctx.params), '--out', ctx.out, '--quiet'], join(ctx.dir, 'log.txt'));
    return { vocabSize: r.vocabSize, tokens: r.tokens, finalCost: r.finalCost };
  },
  cse: async (_c, ctx) => {
    const { maxTime, ...rest } = ctx.params;
    // no clock (max-time 0) means a whole number of epochs; the app takes a large --max-time for that
    const r = await runApp('apps/cse-lm/src/pretrain.ts', [...flags(rest), '--max-time', String(Number(maxTime) > 0 ? maxTime : 1e9), '--out', ctx.out], join(ctx.dir, 'log.txt'));
    const rows = (r.results ?? []) as { direction: string; lm: { testBitsPerChar: number } }[];
    return Object.fromEntries(rows.map((x) => [`${x.direction}TestBitsPerChar`, x.lm.testBitsPerChar]));
  },
  elmo: async (_c, ctx) => {
    const r = await runApp('apps/elmo-lm/src/pretrain.ts', [...flags(ctx.params), '--out', join(ctx.out, 'model'), '--fresh'], join(ctx.dir, 'log.txt'));
    return { heldoutPerplexity: r.heldoutPerplexity, unigramPerplexity: r.unigramPerplexity, steps: r.steps };
  },
  'bert-pretrain': async (_c, ctx) => {
    const r = await runApp('apps/re-bert/src/pretrain.ts', [...flags(ctx.params), '--out', join(ctx.out, 'model')], join(ctx.dir, 'log.txt'));
    return { heldOutMlmLoss: r.heldOutMlmLoss, heldOutMlmLossStart: r.heldOutMlmLossStart, steps: r.steps, parameters: r.parameters };
  },
  re: async (_c, ctx) => runExperimentCell(ctx.params.spec as unknown as ExperimentSpec, ctx.out),
  attention: async (_c, ctx) => {
    const model = ctx.dep('model');
    const spec = (model.params as { spec: ExperimentSpec }).spec;
    const runDir = String(model.result.runDir ?? model.out);
    if (!existsSync(runDir)) throw new UserError('the model cell has no run folder', { file: runDir });
    return attentionCell({ modelDir: runDir, spec, limit: Number(ctx.params.limit), examples: Number(ctx.params.examples), out: ctx.out });
  },
};
