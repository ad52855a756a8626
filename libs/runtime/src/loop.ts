import type { ArtifactContents } from './artifact.ts';
import type { CheckpointStore } from './checkpoint.ts';
import type { JsonlWriter } from './jsonl.ts';
import { Progress, formatDuration } from './progress.ts';

/** What one optimizer step reports to the loop. */
export interface StepReport {
  loss: number;
  /** work done by the step, in the task's unit (sentences, characters, tokens) */
  items: number;
  /** the task asks for an evaluation now (an epoch ended, or its own cadence): the label of the moment */
  evaluate?: string;
}

export interface Evaluation {
  /** the model-selection score */
  score: number;
  metrics: Record<string, unknown>;
}

/**
 * A trainer as the loop sees it: it owns the model, the optimizer and the data position; the loop owns when
 * to evaluate, checkpoint and stop. Each family (RE, char LM, biLM, masked LM) supplies one.
 */
export interface TrainingTask {
  readonly unit: string;
  /** total work of the whole run and work done so far (for progress and ETA) */
  totalItems(): number;
  itemsDone(): number;
  /** optimizer steps done (across resumes) */
  steps(): number;
  /** true when the task has nothing left to do (its epochs are spent) */
  finished(): boolean;
  step(): StepReport | Promise<StepReport>;
  evaluate?(label: string): Evaluation;
  /** after an evaluation: `improved` says whether its score is the best so far (save the best model; anneal) */
  afterEvaluate?(ev: Evaluation, improved: boolean, label: string): void;
  /** the run ends (finished, a budget or a signal): last words before the final checkpoint; a returned label asks for a last evaluation */
  beforeStop?(reason: StopReason): string | void;
  /** everything the task must restore to continue exactly (weights, optimizer slots, data position, rng); `loop` is the loop's state as it will be saved */
  snapshot(loop: LoopState): ArtifactContents;
  /** extra fields for the periodic `train` metrics line */
  trainInfo?(): Record<string, unknown>;
}

export type StopReason = 'finished' | 'signal' | 'max-time' | 'max-steps';

/** The loop's own part of a checkpoint. */
export interface LoopState {
  elapsedSec: number;
  best: number | null;
  bestLabel: string | null;
  evaluations: number;
}

export interface LoopOptions {
  runId?: string;
  label: string;
  metrics?: JsonlWriter;
  /** one JSON-ready line per evaluation and stop, for the console */
  log?: (line: Record<string, unknown>) => void;
  checkpoints?: CheckpointStore;
  /** checkpoint every this many optimizer steps (0: off) and/or seconds (0: off), and at every evaluation */
  checkpointEverySteps?: number;
  checkpointEverySec?: number;
  /** seconds of training over the whole run, resumed parts included (0: no limit) */
  maxTimeSec?: number;
  /** optimizer steps over the whole run (0: no limit) */
  maxSteps?: number;
  /** model selection: a higher score is better (F1) or a lower one (loss) */
  higherIsBetter: boolean;
  /** the loop state of the checkpoint being resumed */
  resumed?: LoopState;
  /** a `train` metrics line every this many steps (0: none) */
  metricsEvery?: number;
  /** polled after each step besides SIGINT/SIGTERM (tests) */
  shouldStop?: () => boolean;
  /** called after each step with the step count (tests) */
  afterStep?: (steps: number) => void;
  /** no progress line (BIORE_QUIET=1 does the same) */
  quiet?: boolean;
}

export interface LoopResult {
  stopped: StopReason;
  signal?: 'SIGINT' | 'SIGTERM';
  state: LoopState;
  lastEval?: Evaluation;
  /** items per second over this process's part of the run */
  rate: number;
}

/** Reads the loop's part of a checkpoint state written by runLoop. */
export function loopStateOf(state: Record<string, unknown> | undefined): LoopState | undefined {
  const l = state?.loop as LoopState | undefined;
  return l && typeof l.elapsedSec === 'number' ? l : undefined;
}

/**
 * The one training loop: steps until the task is finished or a budget (time over all resumed parts, steps) or
 * SIGINT/SIGTERM stops it; evaluates when the task asks, keeps the best score, checkpoints on its cadence, at
 * every evaluation and at the stop; shows progress with ETA (within --max-time) and writes JSONL metrics tagged
 * with the run id.
 */
export async function runLoop(task: TrainingTask, o: LoopOptions): Promise<LoopResult> {
  const state: LoopState = o.resumed ? { ...o.resumed } : { elapsedSec: 0, best: null, bestLabel: null, evaluations: 0 };
  const elapsed0 = state.elapsedSec;
  const t0 = performance.now();
  const now = () => elapsed0 + (performance.now() - t0) / 1000;
  const tag = o.runId ? { runId: o.runId } : {};
  const progress = new Progress(o.label, task.totalItems(), task.unit, o.quiet || process.env.BIORE_QUIET === '1', task.itemsDone());
  if (o.maxTimeSec) progress.setTimeLimit(Math.max(0, o.maxTimeSec - elapsed0));
  const items0 = task.itemsDone();
  let lastEval: Evaluation | undefined;
  let lastCheckpoint = performance.now();
  let lossSum = 0, lossN = 0;
  let signal: LoopResult['signal'];
  const onInt = () => { signal = 'SIGINT'; };
  const onTerm = () => { signal = 'SIGTERM'; };
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);

  const checkpoint = () => {
    if (!o.checkpoints) return;
    state.elapsedSec = now();
    const snap = task.snapshot(state);
    o.checkpoints.save({ ...snap, state: { ...(snap.state ?? {}), loop: state, ...tag } });
    lastCheckpoint = performance.now();
  };
  const evaluate = (label: string) => {
    if (!task.evaluate) return;
    const ev = task.evaluate(label);
    lastEval = ev;
    state.evaluations++;
    const improved = state.best === null || (o.higherIsBetter ? ev.score > state.best : ev.score < state.best);
    if (improved) { state.best = ev.score; state.bestLabel = label; }
    task.afterEvaluate?.(ev, improved, label);
    const line = { event: 'eval', ...tag, at: label, step: task.steps(), ...ev.metrics, best: improved };
    o.metrics?.write(line);
    o.log?.(line);
  };

  let stopped: StopReason = 'finished';
  try {
    while (!task.finished()) {
      const r = await task.step();
      if (!Number.isFinite(r.loss)) throw new Error(`training diverged at step ${task.steps()}: loss ${r.loss}`);
      lossSum += r.loss;
      lossN++;
      progress.setTotal(task.totalItems());
      progress.tick(r.items, `loss ${(lossSum / lossN).toFixed(4)}`);
      o.afterStep?.(task.steps());
      if (o.metricsEvery && task.steps() % o.metricsEvery === 0) {
        o.metrics?.write({ event: 'train', ...tag, step: task.steps(), loss: lossSum / lossN, itemsPerSec: progress.rate(), ...task.trainInfo?.() });
        lossSum = lossN = 0;
      }
      if (r.evaluate) evaluate(r.evaluate);
      // the step is synchronous tensor work: yield once so SIGINT/SIGTERM handlers run
      await new Promise((res) => setImmediate(res));
      if (signal || o.shouldStop?.()) { stopped = 'signal'; break; }
      if (o.maxTimeSec && now() >= o.maxTimeSec && !task.finished()) { stopped = 'max-time'; break; }
      if (o.maxSteps && task.steps() >= o.maxSteps && !task.finished()) { stopped = 'max-steps'; break; }
      const due = r.evaluate !== undefined
        || (o.checkpointEverySteps && task.steps() % o.checkpointEverySteps === 0)
        || (o.checkpointEverySec && performance.now() - lastCheckpoint > o.checkpointEverySec * 1000);
      if (due && !task.finished()) checkpoint();
    }
    const last = task.beforeStop?.(stopped);
    if (last) evaluate(last);
    checkpoint();
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    progress.end();
  }
  state.elapsedSec = now();
  const line = { event: 'stop', ...tag, reason: stopped, ...(signal ? { signal } : {}), step: task.steps(), seconds: Math.round(state.elapsedSec), elapsed: formatDuration(state.elapsedSec) };
  o.metrics?.write(line);
  if (stopped !== 'finished') o.log?.({ ...line, checkpoint: o.checkpoints?.latest() });
  const secs = (performance.now() - t0) / 1000;
  return { stopped, signal, state, lastEval, rate: secs > 0 ? (task.itemsDone() - items0) / secs : 0 };
}
