// The one HTML report: every table in its paper's layout with the paper's figures beside ours, and the plots
// (vega-lite rendered to inline SVG in Node, so the page needs no script and no network).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { crossValidationSummary, type CrossValidationSummary } from '@biore/metrics';
import type { CellRecord } from './cache.ts';
import { mergeWeights, topStems, type AttentionExample, type AttentionResult, type StemWeights } from './attention.ts';
import { REPO } from './executors.ts';
import {
  HIAI_MEMORY, HIAI_TABLE2, HIAI_TABLE3, HIAI_TABLE4, HIAI_TABLE5, SU_FIG4_TRIGGERS, SU_TABLE3, SU_TABLE4, SU_TABLE5, type PRF, type SuTask,
} from './paper.ts';
import type { Session } from './session.ts';
import {
  DEFAULT_PRESET, FOLDED, FOLDS, PRESETS, STACKS, STACK_NAMES, bertModelName, liteModelName, reCellId, type Head,
} from './study.ts';

/** Scores as fractions; sd present for cross-validated rows. */
export interface Score { precision: number; recall: number; f1: number; sd?: { precision: number; recall: number; f1: number }; k?: number }

export interface ReportData {
  budget: Session['study']['budget'];
  tables: Record<string, unknown>;
  figures: Record<string, unknown[]>;
  missing: string[];
  kfold: Record<string, CrossValidationSummary & { cells: string[] }>;
}

/** Everything that depends on when and where cells ran (kept apart: two runs of the same study differ only here). */
export interface RunInfo {
  cells: number;
  done: number;
  secondsByKind: Record<string, number>;
  hosts: string[];
  shards: string[];
  bench: string | null;
}

const SU_TASKS: SuTask[] = ['aimed', 'ddi', 'chemprot'];
const SU_TASK_NAMES: Record<SuTask, string> = { aimed: 'PPI (AIMed)', ddi: 'DDI', chemprot: 'ChemProt' };

class Results {
  readonly missing = new Set<string>();
  readonly kfold: ReportData['kfold'] = {};
  constructor(private readonly s: Session) {}

  record(id: string): CellRecord | undefined {
    const r = this.s.cache.record(this.s.keys.get(id)!);
    if (!r) this.missing.add(id);
    return r;
  }

  /** One dataset × model: the test scores, or the k-fold mean ± sd over the ten folds (also kept as the k-fold JSON). */
  score(dataset: string, indicator: string, model: string): Score | undefined {
    if (!FOLDED.has(dataset)) {
      const t = this.record(reCellId(dataset, undefined, indicator, model))?.result.test as Score | undefined;
      return t && { precision: t.precision, recall: t.recall, f1: t.f1 };
    }
    const folds = [];
    const cells: string[] = [];
    for (const k of FOLDS) {
      const id = reCellId(dataset, k, indicator, model);
      const t = this.record(id)?.result.test as Score | undefined;
      if (!t) return undefined;
      folds.push({ fold: k, precision: t.precision, recall: t.recall, f1: t.f1 });
      cells.push(id);
    }
    const cv = crossValidationSummary(folds);
    this.kfold[`${dataset}--${indicator}--${model}`] = { ...cv, cells };
    return { ...cv.mean, sd: cv.sd, k: cv.k };
  }

  perClass(id: string): Record<string, { f1: number }> | undefined {
    return (this.record(id)?.result.test as { perClass?: Record<string, { f1: number }> } | undefined)?.perClass;
  }

  runDir(id: string): string | undefined {
    const r = this.record(id);
    return r ? (r.result.runDir as string | undefined) ?? this.s.cache.out(r.key) : undefined;
  }
}

/** The per-epoch lines (dev F1, training loss) of a run folder's metrics.jsonl. */
export function epochLines(runDir: string): { epoch: number; devF1: number; trainLoss: number }[] {
  const f = join(runDir, 'metrics.jsonl');
  if (!existsSync(f)) return [];
  // the trainer's end-of-epoch dev evaluation: `{event: 'eval', at: 'epoch N', …}` (the shared loop), or `{event: 'epoch', …}`
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((l) => (l.event === 'epoch' || (l.event === 'eval' && String(l.at ?? '').startsWith('epoch'))) && typeof l.devF1 === 'number')
    .map((l) => ({ epoch: l.epoch, devF1: l.devF1, trainLoss: l.trainLoss }));
}

// ---------- formatting

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : (x * 100).toFixed(2));
const paperNum = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(2));
function ours(s: Score | undefined, m: 'precision' | 'recall' | 'f1'): string {
  if (!s) return '<span class="missing">not run</span>';
  return s.sd ? `${pct(s[m])} <span class="sd">± ${pct(s.sd[m])}</span>` : pct(s[m]);
}
const METRICS: ['precision' | 'recall' | 'f1', 'p' | 'r' | 'f', string][] = [['precision', 'p', 'P'], ['recall', 'r', 'R'], ['f1', 'f', 'F']];

function table(id: string, caption: string, head: string, rows: string[]): string {
  return `<table id="${id}"><caption>${caption}</caption><thead>${head}</thead><tbody>${rows.join('\n')}</tbody></table>`;
}
const tr = (key: string, cls: string, cells: string[]) => `<tr data-row="${esc(key)}" class="${cls}">${cells.join('')}</tr>`;
const td = (x: string, attrs = '') => `<td${attrs}>${x}</td>`;
const th = (x: string, attrs = '') => `<th${attrs}>${x}</th>`;

// ---------- the tables

function hiaiTable2(r: Results): { html: string; data: unknown } {
  const cols: { name: string; model?: string; indicator?: (ds: string) => string }[] = [
    { name: 'E-SVM' }, { name: 'SPINN' }, { name: 'SciBERT' },
    { name: 'BioBERT', model: bertModelName('cls'), indicator: () => 'replacement' },
    ...STACKS.map((s) => ({ name: STACK_NAMES[s], model: liteModelName(s), indicator: (ds: string) => (ds === 'gad' ? 'replacement' : 'tags') })),
  ];
  const data: Record<string, Record<string, Score | undefined>> = {};
  const rows: string[] = [];
  for (const ds of ['gad', 'chemprot'] as const) {
    data[ds] = {};
    for (const c of cols) if (c.model) data[ds][c.name] = r.score(ds, c.indicator!(ds), c.model);
    METRICS.forEach(([m, pm, label], i) => {
      rows.push(tr(`${ds}/${label}/paper`, 'paper', [
        ...(i === 0 ? [th(ds === 'gad' ? 'GAD' : 'ChemProt', ' rowspan="6"')] : []), th(label), td('paper'),
        ...cols.map((c) => td(paperNum(HIAI_TABLE2[c.name][ds][pm]))),
      ]));
      rows.push(tr(`${ds}/${label}/ours`, 'ours', [th(label), td('ours'), ...cols.map((c) => td(c.model ? ours(data[ds][c.name], m) : '<span class="na">—</span>'))]));
    });
  }
  const head = `<tr>${th('Dataset')}${th('')}${th('')}${cols.map((c) => th(esc(c.name))).join('')}</tr>`;
  return {
    html: table('hiai-table2', 'Table 2. Precision, recall and F1 (%) of the positive classes. Ours: GAD is the mean ± sample sd over the ten folds (replacement, the only indicator GAD ships); ChemProt uses indicator tags for the lite models (the paper\'s) and replacement for BERT (BioBERT\'s); "BioBERT" is the BERT pre-trained here with the cls head.', head, rows),
    data,
  };
}

interface BenchRun { row: string; engine: string; failed?: string; results?: { batch: number; msPerSample: number; peakRssMB: number }[]; maxRssMB?: number }
const BENCH_ROW_NAMES: Record<string, string> = { glove: 'Baseline (GloVe)', 'glove+cse': 'Proposed1 (GloVe+CSE)', 'glove+elmo': 'Proposed2 (GloVe+ELMo)', 'glove+cse+elmo': 'Proposed3 (GloVe+CSE+ELMo)', 'bert-base': 'BERT-base (BioBERT\'s size)', 'head-1124': 'BiLSTM-attention head alone (input 1124)' };

function readBench(file: string): { file: string; runs: BenchRun[]; samples?: number; batch?: number } | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8')) as { runs?: BenchRun[]; samples?: number; batch?: number };
  if (!Array.isArray(j.runs)) throw new Error(`${file}: not a re-lite:bench-table3 result (no 'runs' array)`);
  return { file, runs: j.runs, samples: j.samples, batch: j.batch };
}

function hiaiTable3(bench: ReturnType<typeof readBench>): { html: string; data: unknown; figures: unknown[] } {
  const paperRows = HIAI_TABLE3.map((p) => tr(`paper/${p.method}`, 'paper', [th(esc(p.method)), td('paper (V100 GPU)'), td(paperNum(p.seconds)), td(paperNum(p.msPerSample)), td('—'), td('—')]));
  const head = `<tr>${th('Method')}${th('')}${th('Time (s)')}${th('/ Sample (ms)')}${th('engine')}${th('peak RSS (MB)')}</tr>`;
  const note = `Peak memory in the paper (§5.3, training on the GPU): about ${HIAI_MEMORY.proposedGB} GB for the proposed models, ${HIAI_MEMORY.bioBertGB} GB for BioBERT.`;
  if (!bench) {
    return {
      html: `<p class="missing" id="bench-missing">The Table 3 bench has not been run: <code>npx nx run re-lite:bench-table3 --out artifacts/bench/table3.json</code> writes the JSON this section reads (or pass <code>--bench FILE</code>).</p>`
        + table('hiai-table3', `Table 3. Extraction time for the ChemProt test set. ${note}`, head, paperRows),
      data: null, figures: [],
    };
  }
  const figures: unknown[] = [];
  const oursRows: string[] = [];
  for (const run of bench.runs) {
    const name = BENCH_ROW_NAMES[run.row] ?? run.row;
    if (run.failed || !run.results?.length) {
      oursRows.push(tr(`ours/${run.row}/${run.engine}`, 'ours', [th(esc(name)), td('ours'), td('—'), td(`<span class="missing">failed: ${esc(run.failed ?? 'no results')}</span>`), td(esc(run.engine)), td('—')]));
      continue;
    }
    const main = run.results.reduce((a, b) => (b.batch > a.batch ? b : a));
    // the paper's time is for 14,446 test samples (86.53 s at 5.99 ms a sample)
    oursRows.push(tr(`ours/${run.row}/${run.engine}`, 'ours', [th(esc(name)), td(`ours, batch ${main.batch}`), td((main.msPerSample * 14446 / 1000).toFixed(2)), td(main.msPerSample.toFixed(2)), td(esc(run.engine)), td(String(main.peakRssMB))]));
    figures.push({ method: name, engine: run.engine, msPerSample: main.msPerSample, peakRssMB: main.peakRssMB });
  }
  return {
    html: table('hiai-table3', `Table 3. Extraction time for the ChemProt test set: ours on this CPU from <code>${esc(relative(REPO, bench.file))}</code> (${bench.samples ?? '?'} sampled test sentences, time scaled to the paper's 14,446 samples). ${note}`, head, [...paperRows, ...oursRows]),
    data: bench.runs, figures,
  };
}

function hiaiTable4(r: Results): { html: string; data: unknown } {
  const rows: string[] = [];
  const data: Record<string, Record<string, number | null>> = {};
  for (const p of PRESETS) {
    const a = r.score('chemprot', 'tags', liteModelName('glove+cse', p));
    const b = r.score('chemprot', 'tags', liteModelName('glove+cse+elmo', p));
    data[p] = { paperProposed3: HIAI_TABLE4[p], glove_cse: a?.f1 ?? null, glove_cse_elmo: b?.f1 ?? null };
    const name = p.split('+').map((x) => ({ pubmed: 'PubMed', pmc: 'PMC', chemrxiv: 'ChemRxiv' })[x]).join('+');
    rows.push(tr(p, 'ours', [th(name + (p === DEFAULT_PRESET ? ' <span class="sd">(= Table 2)</span>' : '')), td(paperNum(HIAI_TABLE4[p]), ' class="paper"'), td(ours(a, 'f1')), td(ours(b, 'f1'))]));
  }
  const head = `<tr>${th('Corpus')}${th('paper: Proposed3 F1')}${th('ours: GloVe+CSE F1')}${th('ours: GloVe+CSE+ELMo F1')}</tr>`;
  return { html: table('hiai-table4', 'Table 4. ChemProt F1 (%) with the CSE character LMs pre-trained on each corpus (corpora/presets); GloVe and ELMo stay the PubMed+PMC+ChemRxiv ones.', head, rows), data };
}

function hiaiTable5(r: Results): { html: string; data: unknown } {
  const rows: string[] = [];
  const data: Record<string, unknown> = {};
  for (const ds of ['gad', 'chemprot'] as const) {
    const scores = Object.fromEntries(STACKS.map((s) => [s, {
      tags: ds === 'gad' ? undefined : r.score(ds, 'tags', liteModelName(s)),
      replacement: r.score(ds, 'replacement', liteModelName(s)),
    }]));
    data[ds] = scores;
    METRICS.forEach(([m, pm, label], i) => {
      rows.push(tr(`${ds}/${label}`, 'ours', [
        ...(i === 0 ? [th(ds === 'gad' ? 'GAD' : 'ChemProt', ' rowspan="3"')] : []), th(label),
        td(paperNum(HIAI_TABLE5[ds].tags[pm]), ' class="paper"'), td(paperNum(HIAI_TABLE5[ds].replacement[pm]), ' class="paper"'),
        ...STACKS.flatMap((s) => [td(ds === 'gad' ? '<span class="na">n/a</span>' : ours(scores[s].tags, m)), td(ours(scores[s].replacement, m))]),
      ]));
    });
  }
  const head = `<tr>${th('Dataset', ' rowspan="2"')}${th('', ' rowspan="2"')}${th('paper: Proposed3', ' colspan="2"')}${STACKS.map((s) => th(`ours: ${esc(STACK_NAMES[s])}`, ' colspan="2"')).join('')}</tr>`
    + `<tr>${th('Tag')}${th('Replacement')}${STACKS.map(() => th('Tag') + th('Replacement')).join('')}</tr>`;
  return { html: table('hiai-table5', 'Table 5. Indicator tags vs entity replacement (%). GAD ships with its entities already replaced (@GENE$, @DISEASE$), so its tag column cannot be run here.', head, rows), data };
}

function suTable(r: Results, id: 'su-table3' | 'su-table4'): { html: string; data: unknown } {
  const paper = id === 'su-table3' ? SU_TABLE3 : SU_TABLE4;
  const rows: string[] = [];
  const data: Record<string, unknown> = {};
  for (const row of paper) {
    rows.push(tr(`${row.model}/paper`, 'paper', [th(esc(row.model)), td('paper'), ...SU_TASKS.flatMap((t) => METRICS.map(([, pm]) => td(paperNum(row.scores[t][pm]))))]));
    if (!row.head) continue;
    const scores = Object.fromEntries(SU_TASKS.map((t) => [t, r.score(t, 'replacement', bertModelName(row.head as Head))]));
    data[row.head] = scores;
    rows.push(tr(`${row.model}/ours`, 'ours', [th(`<code>${row.head}</code>`), td('ours'), ...SU_TASKS.flatMap((t) => METRICS.map(([m]) => td(ours(scores[t], m))))]));
  }
  const head = `<tr>${th('Model', ' rowspan="2"')}${th('', ' rowspan="2"')}${SU_TASKS.map((t) => th(SU_TASK_NAMES[t], ' colspan="3"')).join('')}</tr>`
    + `<tr>${SU_TASKS.map(() => th('Precision') + th('Recall') + th('F1 Score')).join('')}</tr>`;
  const caption = id === 'su-table3'
    ? 'Table III. The last-layer heads on the same BERT (%); ours: the BERT pre-trained here, AIMed mean ± sample sd over ten folds, DDI and ChemProt micro scores over the positive classes.'
    : 'Table IV. Without [CLS] (LSTM_LL*, Att_LL*) and summarising the [CLS] vectors of the intermediate layers (LSTM_CLS, Att_CLS) (%).';
  return { html: table(id, caption, head, rows), data };
}

// ---------- attention (Su Fig. 3, Table V, Fig. 4)

interface AttentionGroup { task: string; model: string; results: AttentionResult[] }

function attentionGroups(r: Results): AttentionGroup[] {
  const groups: AttentionGroup[] = [];
  const get = (ids: string[]) => ids.map((id) => r.record(id)?.result as unknown as AttentionResult | undefined).filter((x): x is AttentionResult => Boolean(x));
  for (const t of SU_TASKS) {
    const ids = (FOLDED.has(t) ? FOLDS : [undefined]).map((k) => `attention/${reCellId(t, k, 'replacement', bertModelName('cls+att_ll')).slice(3)}`);
    groups.push({ task: t, model: 'BERT cls+att_ll', results: get(ids) });
  }
  groups.push({ task: 'chemprot', model: 'lite GloVe+CSE+ELMo (tags)', results: get([`attention/${reCellId('chemprot', undefined, 'tags', 'glove+cse+elmo').slice(3)}`]) });
  groups.push({ task: 'gad', model: 'lite GloVe+CSE+ELMo', results: get(FOLDS.map((k) => `attention/${reCellId('gad', k, 'replacement', 'glove+cse+elmo').slice(3)}`)) });
  return groups;
}

function suTable5(groups: AttentionGroup[], minCount: number): { html: string; data: unknown } {
  const rows: string[] = [];
  const data: Record<string, unknown> = {};
  for (const g of groups.filter((x) => x.model.startsWith('BERT'))) {
    const pos = g.results.reduce((acc, x) => mergeWeights(acc, x.positive), {} as StemWeights);
    const top = topStems(pos, 10, minCount);
    data[g.task] = top;
    const positives = g.results.reduce((s, x) => s + x.positives, 0);
    rows.push(tr(g.task, 'ours', [th(SU_TASK_NAMES[g.task as SuTask]), td(esc(SU_TABLE5[g.task as SuTask]), ' class="paper"'),
      td(g.results.length ? (top.length ? top.map((x) => `${esc(x.stem)} <span class="sd">${x.mean.toFixed(3)}·${x.count}</span>`).join(', ') : '<span class="missing">no stem seen often enough</span>') : '<span class="missing">not run</span>'),
      td(String(positives))]));
  }
  const head = `<tr>${th('Task')}${th('paper: word stems')}${th(`ours: top-10 stems (mean weight · occurrences ≥ ${minCount})`)}${th('positive instances')}</tr>`;
  return { html: table('su-table5', `Table V. The word stems with the largest mean attention weight (BERT cls+att_ll), over the words within three words of either entity in all positive test instances, Porter-stemmed.`, head, rows), data };
}

function fig4Data(groups: AttentionGroup[]): { task: string; word: string; stem: string; instances: string; weight: number | null; count: number }[] {
  const out: ReturnType<typeof fig4Data> = [];
  for (const g of groups.filter((x) => x.model.startsWith('BERT'))) {
    const pos = g.results.reduce((acc, x) => mergeWeights(acc, x.positive), {} as StemWeights);
    const neg = g.results.reduce((acc, x) => mergeWeights(acc, x.negative), {} as StemWeights);
    for (const { word, stem } of SU_FIG4_TRIGGERS[g.task as SuTask]) {
      for (const [name, w] of [['positive', pos], ['negative', neg]] as const) {
        const e = w[stem];
        out.push({ task: SU_TASK_NAMES[g.task as SuTask], word, stem, instances: name, weight: e ? e[0] / e[1] : null, count: e ? e[1] : 0 });
      }
    }
  }
  return out;
}

// ---------- plots

async function svg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const s = await view.toSVG();
  view.finalize();
  return s;
}

const FONT = { config: { font: 'Helvetica, Arial, sans-serif', view: { stroke: '#ddd' } } };

async function figure(id: string, title: string, spec: vl.TopLevelSpec | null, note = ''): Promise<string> {
  const body = spec ? await svg({ ...FONT, ...spec } as vl.TopLevelSpec) : `<p class="missing">no data: ${esc(note || 'the cells have not been run')}</p>`;
  return `<figure id="${id}" class="plot">${body}<figcaption>${title}${spec && note ? ` ${note}` : ''}</figcaption></figure>`;
}

function learningCurveData(r: Results): { group: string; model: string; epoch: number; devF1: number; trainLoss: number }[] {
  const rows: ReturnType<typeof learningCurveData> = [];
  const add = (group: string, model: string, ids: string[]) => {
    const byEpoch = new Map<number, { f: number[]; l: number[] }>();
    for (const id of ids) {
      const dir = r.runDir(id);
      if (!dir) continue;
      for (const e of epochLines(dir)) {
        const x = byEpoch.get(e.epoch) ?? { f: [], l: [] };
        x.f.push(e.devF1); x.l.push(e.trainLoss);
        byEpoch.set(e.epoch, x);
      }
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    for (const [epoch, x] of [...byEpoch].sort((a, b) => a[0] - b[0])) rows.push({ group, model, epoch, devF1: mean(x.f) * 100, trainLoss: mean(x.l) });
  };
  for (const ds of ['chemprot', 'gad'] as const) {
    const ind = ds === 'gad' ? 'replacement' : 'tags';
    for (const s of STACKS) add(`Hiai ${ds === 'gad' ? 'GAD (fold mean)' : 'ChemProt'}`, STACK_NAMES[s], (FOLDED.has(ds) ? FOLDS : [undefined]).map((k) => reCellId(ds, k, ind, liteModelName(s))));
  }
  for (const t of SU_TASKS) {
    for (const row of SU_TABLE4) add(`Su ${SU_TASK_NAMES[t]}${FOLDED.has(t) ? ' (fold mean)' : ''}`, row.head, (FOLDED.has(t) ? FOLDS : [undefined]).map((k) => reCellId(t, k, 'replacement', bertModelName(row.head as Head))));
    add(`Su ${SU_TASK_NAMES[t]}${FOLDED.has(t) ? ' (fold mean)' : ''}`, 'cls+lstm_ll', (FOLDED.has(t) ? FOLDS : [undefined]).map((k) => reCellId(t, k, 'replacement', bertModelName('cls+lstm_ll'))));
  }
  return rows;
}

function perClassData(r: Results): { group: string; model: string; label: string; f1: number }[] {
  const rows: ReturnType<typeof perClassData> = [];
  const add = (group: string, model: string, id: string) => {
    const pc = r.perClass(id);
    if (pc) for (const [label, s] of Object.entries(pc)) rows.push({ group, model, label, f1: s.f1 * 100 });
  };
  for (const s of STACKS) add('Hiai ChemProt', STACK_NAMES[s], reCellId('chemprot', undefined, 'tags', liteModelName(s)));
  add('Hiai ChemProt', 'BERT cls', reCellId('chemprot', undefined, 'replacement', bertModelName('cls')));
  for (const t of ['ddi', 'chemprot'] as const) {
    for (const h of ['cls', 'cls+att_ll', 'cls+lstm_ll', 'att_ll', 'lstm_ll', 'att_cls', 'lstm_cls'] as Head[]) add(`Su ${SU_TASK_NAMES[t]}`, h, reCellId(t, undefined, 'replacement', bertModelName(h)));
  }
  return rows;
}

function heatmapSpec(title: string, examples: AttentionExample[]): vl.TopLevelSpec {
  const values = examples.flatMap((ex, i) => ex.words.map((w, p) => ({ sentence: `${i + 1}: ${ex.gold} (pred ${ex.pred})`, position: p, word: w, weight: ex.attention[p] })));
  return {
    title, data: { values }, width: { step: 46 }, height: { step: 26 },
    encoding: { x: { field: 'position', type: 'ordinal', axis: null }, y: { field: 'sentence', type: 'nominal', title: null } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'weight', type: 'quantitative', scale: { scheme: 'reds' }, title: 'attention' } } },
      { mark: { type: 'text', fontSize: 9, limit: 44 }, encoding: { text: { field: 'word' }, color: { value: '#111' } } },
    ],
  } as vl.TopLevelSpec;
}

// ---------- the page

const CSS = `
body { font: 14px/1.45 Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
caption { caption-side: top; text-align: left; padding: .3em 0; color: #444; max-width: 1100px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; vertical-align: top; }
thead th { background: #f3f3f3; text-align: center; }
tbody th { text-align: left; background: #fafafa; }
tr.paper td { color: #555; background: #fbfbf5; }
td.paper { color: #555; background: #fbfbf5; text-align: left; }
.sd { color: #777; font-size: 11px; }
.missing { color: #b00; } .na { color: #999; }
figure.plot { margin: 1.2em 0; overflow-x: auto; } figcaption { color: #444; font-size: 13px; max-width: 1100px; }
code { background: #f4f4f4; padding: 0 3px; } pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 12px; }
.budget { background: #eef5ff; border: 1px solid #c9dcf5; padding: .6em 1em; }
`;

export interface ReportResult { file: string; missing: number; data: ReportData; runInfo: RunInfo }

export async function buildReport(s: Session, o: { bench?: string }): Promise<{ html: string; data: ReportData; runInfo: RunInfo }> {
  const r = new Results(s);
  const benchFile = resolve(REPO, o.bench ?? 'artifacts/bench/table3.json');
  const bench = readBench(benchFile);
  const t2 = hiaiTable2(r), t3 = hiaiTable3(bench), t4 = hiaiTable4(r), t5 = hiaiTable5(r), s3 = suTable(r, 'su-table3'), s4 = suTable(r, 'su-table4');
  const groups = attentionGroups(r);
  const minCount = s.study.budget.name === 'smoke' ? 1 : 5;
  const st5 = suTable5(groups, minCount);
  const f4 = fig4Data(groups);
  const curves = learningCurveData(r);
  const perClass = perClassData(r);
  const b = s.study.budget;

  const figs: string[] = [];
  figs.push(await figure('fig-learning-f1', 'Learning curves: dev F1 (%) after each epoch (folded datasets: the mean over the folds), from each cell\'s metrics.jsonl.', curves.length ? {
    data: { values: curves }, facet: { field: 'group', type: 'nominal', title: null }, columns: 4,
    spec: { width: 220, height: 150, mark: { type: 'line', point: true }, encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } }, y: { field: 'devF1', type: 'quantitative', title: 'dev F1 (%)' }, color: { field: 'model', type: 'nominal' } } },
  } as vl.TopLevelSpec : null));
  figs.push(await figure('fig-learning-loss', 'Learning curves: mean training loss in each epoch.', curves.length ? {
    data: { values: curves }, facet: { field: 'group', type: 'nominal', title: null }, columns: 4,
    spec: { width: 220, height: 150, mark: { type: 'line', point: true }, encoding: { x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } }, y: { field: 'trainLoss', type: 'quantitative', title: 'training loss' }, color: { field: 'model', type: 'nominal' } } },
  } as vl.TopLevelSpec : null));
  figs.push(await figure('fig-per-class', 'Per-class test F1 (%) on ChemProt (Hiai et al.\'s stacks and BERT cls) and on DDI and ChemProt (Su & Vijay-Shanker\'s heads).', perClass.length ? {
    data: { values: perClass }, facet: { row: { field: 'group', type: 'nominal', title: null } }, resolve: { scale: { x: 'independent' } },
    spec: { width: 700, height: 130, mark: 'bar', encoding: { x: { field: 'label', type: 'nominal', title: null, axis: { labelAngle: 0 } }, xOffset: { field: 'model' }, y: { field: 'f1', type: 'quantitative', title: 'F1 (%)' }, color: { field: 'model', type: 'nominal' } } },
  } as vl.TopLevelSpec : null));
  const speed = (t3.figures as { method: string; engine: string; msPerSample: number; peakRssMB: number }[]);
  figs.push(await figure('fig-speed', 'Table 3 bench: extraction time per sample (ms) and peak resident memory (MB) of each stack and BERT-base, by inference engine.', speed.length ? {
    data: { values: speed }, hconcat: [
      { width: 300, height: 160, mark: 'bar', encoding: { y: { field: 'method', type: 'nominal', title: null }, yOffset: { field: 'engine' }, x: { field: 'msPerSample', type: 'quantitative', title: 'ms / sample' }, color: { field: 'engine', type: 'nominal' } } },
      { width: 300, height: 160, mark: 'bar', encoding: { y: { field: 'method', type: 'nominal', title: null, axis: null }, yOffset: { field: 'engine' }, x: { field: 'peakRssMB', type: 'quantitative', title: 'peak RSS (MB)' }, color: { field: 'engine', type: 'nominal' } } },
    ],
  } as vl.TopLevelSpec : null, bench ? '' : 'the Table 3 bench has not been run'));
  const heatmaps: string[] = [];
  for (const g of groups) {
    const examples = g.results.flatMap((x) => x.examples).slice(0, 3);
    const correct = g.results.some((x) => x.examplesCorrect);
    heatmaps.push(await figure(`fig-heatmap-${g.task}-${g.model.startsWith('BERT') ? 'att_ll' : 'lite'}`,
      `Fig. 3 style: attention weights over the words of positive ${g.task} test sentences, ${g.model}; darker is heavier.${examples.length && !correct ? ' (No positive sentence was labelled correctly by this model; the first positive ones are shown.)' : ''}`,
      examples.length ? heatmapSpec(`${g.task}: ${g.model}`, examples) : null));
  }
  const f4Present = f4.filter((x) => x.weight !== null);
  figs.push(...heatmaps);
  figs.push(await figure('fig-triggers', 'Fig. 4: mean attention weight (BERT cls+att_ll) of the paper\'s trigger words within three words of the entities, in positive vs negative test instances.', f4Present.length ? {
    data: { values: f4Present }, width: { step: 18 }, height: 180,
    mark: 'bar', encoding: { x: { field: 'word', type: 'nominal', title: null, sort: f4.map((x) => x.word) }, xOffset: { field: 'instances' }, y: { field: 'weight', type: 'quantitative', title: 'mean attention weight' }, color: { field: 'instances', type: 'nominal', scale: { domain: ['positive', 'negative'] } } },
  } as vl.TopLevelSpec : null, f4.length && !f4Present.length ? 'none of the trigger words occurs near an entity in the sampled test instances' : `${f4.length - f4Present.length} of ${f4.length} trigger/instance pairs have no occurrence and are left out.`));

  const missing = [...r.missing].sort();
  const data: ReportData = {
    budget: b,
    tables: { 'hiai-table2': t2.data, 'hiai-table3': t3.data, 'hiai-table4': t4.data, 'hiai-table5': t5.data, 'su-table3': s3.data, 'su-table4': s4.data, 'su-table5': st5.data, 'su-fig4': f4 },
    figures: { learningCurves: curves, perClass, speed },
    missing,
    kfold: r.kfold,
  };
  const records = [...s.study.matrix.cells.keys()].map((id) => s.cache.record(s.keys.get(id)!)).filter((x): x is CellRecord => Boolean(x));
  const secondsByKind: Record<string, number> = {};
  for (const x of records) secondsByKind[x.kind] = Math.round(((secondsByKind[x.kind] ?? 0) + x.seconds) * 10) / 10;
  const runInfo: RunInfo = {
    cells: s.study.matrix.cells.size, done: records.length, secondsByKind,
    hosts: [...new Set(records.map((x) => x.computedBy.host))].sort(), shards: [...new Set(records.map((x) => x.computedBy.shard))].sort(),
    bench: bench ? relative(REPO, bench.file) : null,
  };

  const kfoldLinks = Object.keys(r.kfold).sort().map((k) => `<a href="kfold/${esc(k)}.json">${esc(k)}</a>`).join(' · ');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>biore studies: ${esc(b.name)} budget</title><style>${CSS}</style></head>
<body>
<h1>biore studies — the papers' tables, budget <code>${esc(b.name)}</code></h1>
<p class="budget" id="budget"><b>Budget <code>${esc(b.name)}</code>:</b> ${esc(b.description)}. Lite RE: hidden ${b.lite.hidden}, batch ${b.lite.batch}, ${b.lite.epochs} epoch(s), ${b.lite.optimizer} lr ${b.lite.lr}${b.lite.limitTrain ? `, ${b.lite.limitTrain} training and ${b.lite.limitEval} dev/test instances` : ', all instances'}. BERT RE: lr ${b.bert.lr}, batch ${b.bert.batch}, ${b.bert.epochs} epoch(s), max length ${b.bert.maxLength}. Pre-training: ${b.corpusSampleLines ? `${b.corpusSampleLines} sentences of each corpus` : 'whole corpora'}; GloVe dim ${b.glove.dim}, ${b.glove.iterations} iterations; CSE hidden ${b.cse.hidden}${b.cse.maxTime ? `, ${b.cse.maxTime} s a direction` : `, ${b.cse.epochs} epoch(s)`}; ELMo LSTM ${b.elmo.dim}→${b.elmo.proj}${b.elmo.maxSteps ? `, ${b.elmo.maxSteps} steps` : ''}; BERT hidden ${b.bertPretrain.hidden}, ${b.bertPretrain.layers} layer(s), ${b.bertPretrain.steps} steps. Seed ${b.seed}. The papers' figures are printed beside ours in every table.</p>
${missing.length ? `<p class="missing" id="missing">${missing.length} cell(s) have no result yet (shown as "not run"): run <code>nx run studies:run --budget ${esc(b.name)}</code>.</p>` : ''}
<h2>Hiai et al. (2021): multiple lightweight pre-trained models</h2>
${t2.html}
${t3.html}
${t4.html}
${t5.html}
<h2>Su &amp; Vijay-Shanker (2020): BERT's last layer</h2>
${s3.html}
${s4.html}
${st5.html}
<h2>Plots</h2>
${figs.join('\n')}
<h2>Cross-validation</h2>
<p>Every GAD and AIMed row is the mean ± sample sd of ten folds; the per-fold scores are in one JSON each: ${kfoldLinks || '<span class="missing">none yet</span>'}.</p>
<section id="run-info"><h2>Run</h2><p>${runInfo.done} of ${runInfo.cells} cells done; compute seconds by kind ${esc(JSON.stringify(runInfo.secondsByKind))}; shards ${esc(runInfo.shards.join(', '))} on ${esc(runInfo.hosts.join(', '))}. Cell cache: <code>${esc(relative(REPO, s.cache.root) || s.cache.root)}</code>.</p></section>
</body></html>
`;
  return { html, data, runInfo };
}

/** Writes index.html, report.json (without the run details), run.json and the k-fold JSONs into `out`. */
export async function writeReport(s: Session, o: { out: string; bench?: string }): Promise<ReportResult> {
  const out = resolve(REPO, o.out);
  const { html, data, runInfo } = await buildReport(s, o);
  rmSync(join(out, 'kfold'), { recursive: true, force: true });
  mkdirSync(join(out, 'kfold'), { recursive: true });
  for (const [k, v] of Object.entries(data.kfold)) writeFileSync(join(out, 'kfold', `${k}.json`), JSON.stringify(v, null, 2) + '\n');
  writeFileSync(join(out, 'report.json'), JSON.stringify(data, null, 2) + '\n');
  writeFileSync(join(out, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');
  writeFileSync(join(out, 'index.html'), html);
  return { file: join(out, 'index.html'), missing: data.missing.length, data, runInfo };
}

