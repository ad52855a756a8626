import * as tf from '@tensorflow/tfjs-core';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { backendReport, initBackend, type Rng, type TensorMap } from '@biore/runtime';

/**
 * Synchronous data-parallel training: each step, the main thread and `workers − 1` worker threads (each its own
 * tfjs instance) compute the gradients of their shares of one global batch, the main thread sums them in shard
 * order and steps its optimizer once. Optimizer state, checkpoints and resume stay in the main thread; the
 * replicas hold only copies of the weights (sent every step) and whatever per-row state a family carries
 * (the char LM's truncated-BPTT state).
 */

/** One participant's copy of a model: what a family's worker recipe builds and what the main thread wraps. */
export interface GradientReplica<S> {
  /** the trainable variables by stable name; every replica must list the same names and shapes */
  variables(): Record<string, tf.Variable>;
  /**
   * The loss and gradients of one shard, already weighted by its share of the global batch's loss, so that the
   * shards' gradients sum to the global batch's gradient. Returned tensors are the caller's to dispose.
   */
  gradients(shard: S): ShardResult;
  /** weights that are not trained but must equal the main thread's: assigned once, when a worker starts */
  frozen?(): Record<string, tf.Variable>;
  /** family-specific requests answered through GradientWorkers.call (e.g. the char LM's carried state) */
  handle?(method: string, arg: unknown): unknown;
  dispose(): void;
}

/** A shard's weighted loss and gradients, and host data the family hands back (the char LM's new state). */
export interface ShardResult {
  loss: number;
  grads: Record<string, tf.Tensor>;
  /** structured-clonable; its ArrayBuffers are transferred from a worker */
  extra?: unknown;
}

/** What a family's worker entry module serves: builds a replica in a fresh worker from a JSON config. */
export interface GradientRecipe<C, S> {
  build(config: C): Promise<GradientReplica<S>>;
}

export interface GradientWorkersOptions<C, S> {
  /** participants per step, the main thread included; default: the number of cores */
  workers?: number;
  /** the worker entry module (a file that calls serveGradients with the family's recipe) */
  module: string | URL;
  /** JSON config each worker's recipe builds its replica from */
  config: C;
  /** the main thread's own replica (over the variables the optimizer updates): it computes shard 0 */
  local: GradientReplica<S>;
  /** modules each worker imports before building (registrations: embedder types, model families) */
  imports?: (string | URL)[];
  /** tfjs backend for the workers; default: the one the main thread runs (runtime's initBackend) */
  backend?: string;
}

/** The default worker count: BIORE_WORKERS when set, else every core. */
export function defaultWorkers(): number {
  const env = Number(process.env.BIORE_WORKERS);
  return Number.isInteger(env) && env >= 1 ? env : Math.max(1, availableParallelism());
}

interface Pending { resolve: (v: any) => void; reject: (e: Error) => void }

type ToWorker =
  | { type: 'init'; config: unknown; frozen: TensorMap; names: string[] }
  | { type: 'grad'; weights: Float32Array[]; shard: unknown }
  | { type: 'call'; method: string; arg: unknown };

type FromWorker =
  | { type: 'ready'; shapes: number[][] }
  | { type: 'grads'; loss: number; grads: (Float32Array | null)[]; extra?: unknown }
  | { type: 'result'; value: unknown }
  | { type: 'error'; message: string; stack?: string };

const WORKER_TAG = 'biore-gradient-worker';

/**
 * A pool of gradient workers. `gradients(shards)` sends shard i (i ≥ 1) with the current weights to worker i,
 * computes shard 0 on the main thread meanwhile, and returns the sum g_0 + g_1 + … (in that order) as tensors.
 */
export class GradientWorkers<S> {
  private readonly names: string[];
  private closed = false;
  /** why a worker can no longer answer (it crashed or exited) */
  private readonly broken: (Error | undefined)[] = [];

  private constructor(
    private readonly local: GradientReplica<S>,
    private readonly threads: Worker[],
    private readonly pending: (Pending | undefined)[],
  ) {
    this.names = Object.keys(local.variables());
  }

  /** participants per step (main thread included) */
  get size(): number {
    return this.threads.length + 1;
  }

  static async start<C, S>(o: GradientWorkersOptions<C, S>): Promise<GradientWorkers<S>> {
    const n = Math.floor(o.workers ?? defaultWorkers());
    if (!(n >= 1)) throw new Error(`workers must be a positive integer, not ${o.workers}`);
    const backend = o.backend ?? backendReport()?.backend ?? tf.getBackend();
    const vars = o.local.variables();
    for (const [k, v] of Object.entries(vars)) if (v.dtype !== 'float32') throw new Error(`data-parallel training needs float32 variables; '${k}' is ${v.dtype}`);
    const names = Object.keys(vars);
    const moduleUrl = toUrl(o.module);
    const imports = (o.imports ?? []).map(toUrl);
    const threads: Worker[] = [];
    const pending: (Pending | undefined)[] = [];
    const pool = new GradientWorkers<S>(o.local, threads, pending);
    for (let i = 1; i < n; i++) {
      const w = new Worker(bootstrap(moduleUrl), { eval: true, workerData: { tag: WORKER_TAG, module: moduleUrl, imports, backend } });
      threads.push(w);
      pending.push(undefined);
      pool.listen(i - 1, w);
    }
    const frozen: TensorMap = {};
    for (const [k, t] of Object.entries(o.local.frozen?.() ?? {})) frozen[k] = { dtype: 'float32', shape: t.shape.slice(), data: Float32Array.from(t.dataSync() as Float32Array) };
    try {
      const ready = await Promise.all(threads.map((_, i) => pool.request<{ shapes: number[][] }>(i, { type: 'init', config: o.config, frozen, names })));
      ready.forEach((r, i) => names.forEach((name, j) => {
        const a = r.shapes[j], b = vars[name].shape;
        if (a.length !== b.length || a.some((d, k) => d !== b[k])) throw new Error(`worker ${i + 1}: variable '${name}' has shape [${a}], the main thread's [${b}]`);
      }));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private listen(i: number, w: Worker): void {
    w.unref();
    w.on('message', (m: FromWorker) => {
      const p = this.pending[i];
      this.pending[i] = undefined;
      if (!this.pending.some(Boolean)) for (const t of this.threads) t.unref();
      if (!p) return;
      if (m.type === 'error') {
        const e = new Error(`gradient worker ${i + 1}: ${m.message}`);
        if (m.stack) e.stack = `${e.message}\n--- in the worker:\n${m.stack}`;
        p.reject(e);
      } else p.resolve(m);
    });
    const fail = (e: Error) => {
      const p = this.pending[i];
      this.pending[i] = undefined;
      this.broken[i] ??= new Error(`gradient worker ${i + 1} ${e.message}`);
      p?.reject(this.broken[i]!);
    };
    w.on('error', (e) => fail(new Error(`failed: ${e.message}`)));
    w.on('exit', (code) => { if (!this.closed) fail(new Error(`exited with code ${code}`)); });
  }

  private request<T>(i: number, msg: ToWorker): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the gradient workers are closed'));
    if (this.broken[i]) return Promise.reject(this.broken[i]);
    if (this.pending[i]) return Promise.reject(new Error(`gradient worker ${i + 1} is busy`));
    return new Promise<T>((resolve, reject) => {
      this.pending[i] = { resolve, reject };
      // a worker keeps the process alive only while it owes an answer
      this.threads[i].ref();
      this.threads[i].postMessage(msg);
    });
  }

  /**
   * The summed loss and gradients of `shards` (one per participant, at most `size`; shard 0 on the main thread).
   * The weights the workers use are read from the local replica's variables now. Gradients are keyed like the
   * local replica's variables; the caller disposes them.
   */
  async gradients(shards: S[]): Promise<{ loss: number; grads: Record<string, tf.Tensor>; extras: unknown[] }> {
    if (shards.length < 1 || shards.length > this.size) throw new Error(`${shards.length} shards for ${this.size} participants`);
    const vars = this.local.variables();
    const remote: Promise<{ loss: number; grads: (Float32Array | null)[]; extra?: unknown }>[] = [];
    if (shards.length > 1) {
      // structured clone copies: the backend's own buffers (cpu keeps them) are never detached
      const weights = this.names.map((n) => vars[n].dataSync() as Float32Array);
      for (let i = 1; i < shards.length; i++) remote.push(this.request(i - 1, { type: 'grad', weights, shard: shards[i] }));
    }
    let first: ShardResult;
    try {
      first = this.local.gradients(shards[0]);
    } catch (e) {
      await Promise.allSettled(remote);
      throw e;
    }
    let results: { loss: number; grads: (Float32Array | null)[]; extra?: unknown }[];
    try {
      results = await Promise.all(remote);
    } catch (e) {
      tf.dispose(Object.values(first.grads));
      await Promise.allSettled(remote);
      throw e;
    }
    let loss = first.loss;
    const grads: Record<string, tf.Tensor> = {};
    this.names.forEach((name, j) => {
      let g: tf.Tensor | undefined = first.grads[name];
      for (const r of results) {
        const data = r.grads[j];
        if (!data) continue;
        const next: tf.Tensor = tf.tidy(() => {
          const t = tf.tensor(data, vars[name].shape, 'float32');
          return g ? tf.add(g, t) : t;
        });
        g?.dispose();
        g = next;
      }
      if (g) grads[name] = g;
    });
    for (const r of results) loss += r.loss;
    for (const [k, g] of Object.entries(first.grads)) if (!this.names.includes(k)) g.dispose();
    return { loss, grads, extras: [first.extra, ...results.map((r) => r.extra)] };
  }

  /** Calls `handle(method, args[i])` on every participant (index 0: the main thread's replica); returns the answers. */
  async call(method: string, args: unknown[]): Promise<unknown[]> {
    if (args.length !== this.size) throw new Error(`${args.length} arguments for ${this.size} participants`);
    const remote = this.threads.map((_, i) => this.request<{ value: unknown }>(i, { type: 'call', method, arg: args[i + 1] }));
    let mine: unknown;
    try {
      mine = callReplica(this.local, method, args[0]);
    } catch (e) {
      await Promise.allSettled(remote);
      throw e;
    }
    return [mine, ...(await Promise.all(remote)).map((r) => r.value)];
  }

  /** Stops the worker threads (the local replica stays the caller's). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < this.pending.length; i++) { this.pending[i]?.reject(new Error('the gradient workers were closed')); this.pending[i] = undefined; }
    await Promise.all(this.threads.map((w) => w.terminate()));
  }
}

/** The ArrayBuffers of typed arrays inside a structured-clonable value (to transfer, not copy). */
function buffersIn(v: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (ArrayBuffer.isView(v)) {
    const b = v.buffer as ArrayBuffer;
    // only whole, unshared buffers move; a view into a larger one is copied
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && !out.includes(b)) out.push(b);
  } else if (Array.isArray(v)) for (const x of v) buffersIn(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) buffersIn(x, out);
  return out;
}

function callReplica<S>(r: GradientReplica<S>, method: string, arg: unknown): unknown {
  if (!r.handle) throw new Error(`the replica answers no '${method}' requests`);
  return r.handle(method, arg);
}

function toUrl(m: string | URL): string {
  if (m instanceof URL) return m.href;
  return /^[a-z]+:/i.test(m) ? m : new URL(m, `file://${process.cwd()}/`).href;
}

/** The worker's first code: TypeScript entries get tsx's loader (workers do not inherit --import tsx hooks). */
function bootstrap(moduleUrl: string): string {
  if (!/\.[cm]?ts$/.test(new URL(moduleUrl).pathname)) return `import(${JSON.stringify(moduleUrl)})`;
  const api = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(moduleUrl)}); })`;
}

/**
 * The body of a family's worker entry module: builds the replica on 'init' (after starting the main thread's
 * backend and importing the registrations), then answers 'grad' (weights in, weighted gradients out) and
 * 'call' requests until terminated. Does nothing on the main thread.
 */
export function serveGradients<C, S>(recipe: GradientRecipe<C, S>): void {
  if (isMainThread || !parentPort || workerData?.tag !== WORKER_TAG) return;
  const port = parentPort;
  const data = workerData as { module: string; imports: string[]; backend: string };
  let replica: GradientReplica<S> | undefined;
  let names: string[] = [];
  let vars: tf.Variable[] = [];
  const answer = async (m: ToWorker): Promise<{ msg: FromWorker; transfer?: ArrayBuffer[] }> => {
    if (m.type === 'init') {
      await initBackend(data.backend);
      for (const u of data.imports) await import(u);
      replica = await recipe.build(m.config as C);
      const byName = replica.variables();
      const missing = m.names.filter((n) => !byName[n]);
      if (missing.length) throw new Error(`the worker's model has no variables ${missing.join(', ')}`);
      names = m.names;
      vars = names.map((n) => byName[n]);
      const frozen = replica.frozen?.() ?? {};
      for (const [k, h] of Object.entries(m.frozen)) {
        const v = frozen[k];
        if (!v) throw new Error(`the worker's model has no frozen weight '${k}'`);
        tf.tidy(() => v.assign(tf.tensor(h.data, h.shape, 'float32')));
      }
      return { msg: { type: 'ready', shapes: vars.map((v) => v.shape.slice()) } };
    }
    if (!replica) throw new Error(`'${m.type}' before 'init'`);
    if (m.type === 'grad') {
      vars.forEach((v, j) => tf.tidy(() => v.assign(tf.tensor(m.weights[j], v.shape, 'float32'))));
      const { loss, grads, extra } = replica.gradients(m.shard as S);
      // wasm's dataSync is already a copy off its heap; other backends hand out their own buffers
      const sent = names.map((n) => {
        const g = grads[n];
        if (!g) return null;
        const d = g.dataSync() as Float32Array;
        return data.backend === 'wasm' ? d : d.slice();
      });
      tf.dispose(Object.values(grads));
      const buffers = sent.filter((x): x is Float32Array => !!x).map((x) => x.buffer as ArrayBuffer);
      return { msg: { type: 'grads', loss, grads: sent, extra }, transfer: [...buffers, ...buffersIn(extra)] };
    }
    return { msg: { type: 'result', value: callReplica(replica, m.method, m.arg) } };
  };
  port.on('message', (m: ToWorker) => {
    answer(m).then(
      ({ msg, transfer }) => port.postMessage(msg, transfer ?? []),
      (e: Error) => port.postMessage({ type: 'error', message: e?.message ?? String(e), stack: e?.stack } satisfies FromWorker),
    );
  });
}

// ---- dropout over a split batch --------------------------------------------------------------------------

/**
 * This batch is rows [offset, offset + rows) of a batch of `total`. In tensors of rank ≥ 3 axis 1 is time, and the
 * whole batch's time axis is `steps` long (default: this batch's). A rank-2 tensor with `rows` rows is [rows, F];
 * one with rows·t rows is the flattening of [rows, t, F] (ELMo's top outputs).
 */
export interface DropoutRows { offset: number; rows: number; total: number; steps?: number }

let rowsInScope: DropoutRows | undefined;

/**
 * Runs `fn` (synchronous) with dropout drawing the masks of the whole batch and keeping this shard's rows, so a
 * batch split over workers drops exactly the units the whole batch drops (and the Rng ends where it would).
 */
export function withDropoutRows<T>(rows: DropoutRows | undefined, fn: () => T): T {
  if (!rows) return fn();
  const ok = [rows.offset, rows.rows, rows.total].every(Number.isInteger) && rows.offset >= 0 && rows.rows > 0 && rows.offset + rows.rows <= rows.total;
  if (!ok) throw new Error(`dropout rows: ${rows.rows} rows at ${rows.offset} of ${rows.total}`);
  const prev = rowsInScope;
  rowsInScope = rows;
  try {
    const r = fn();
    if (r instanceof Promise) throw new Error('withDropoutRows takes a synchronous function');
    return r;
  } finally {
    rowsInScope = prev;
  }
}

/** The row block dropout is drawing for, if any (read by nn's dropout). */
export function dropoutRowsInScope(): DropoutRows | undefined {
  return rowsInScope;
}

/**
 * The inverted-dropout mask of a tensor that is a block of rows of the whole batch's: draws every value of the
 * whole batch's mask in order (row-major over [total, steps, …]) and keeps the block's.
 */
export function dropoutRowsMask(shape: readonly number[], keep: number, rng: Rng, r: DropoutRows): Float32Array {
  if (shape.length < 2) throw new Error(`dropout over batch rows needs a tensor of rank ≥ 2, not [${shape}]`);
  const b = r.rows;
  let t: number, inner: number, timed: boolean;
  if (shape.length >= 3) {
    if (shape[0] !== b) throw new Error(`dropout rows: a [${shape}] tensor for a shard of ${b} rows`);
    timed = true; t = shape[1]; inner = shape.slice(2).reduce((a, x) => a * x, 1);
  } else if (shape[0] === b) {
    timed = false; t = 1; inner = shape[1];
  } else {
    if (shape[0] % b !== 0) throw new Error(`dropout rows: a [${shape}] tensor for a shard of ${b} rows`);
    timed = true; t = shape[0] / b; inner = shape[1];
  }
  const steps = timed ? (r.steps ?? t) : 1;
  if (t > steps) throw new Error(`dropout rows: ${t} time steps, the whole batch has ${steps}`);
  const m = new Float32Array(b * t * inner);
  const skip = (n: number) => { for (let i = 0; i < n; i++) rng.next(); };
  skip(r.offset * steps * inner);
  let k = 0;
  for (let row = 0; row < b; row++) {
    for (let s = 0; s < t; s++) for (let j = 0; j < inner; j++) m[k++] = rng.next() < keep ? 1 / keep : 0;
    skip((steps - t) * inner);
  }
  skip((r.total - r.offset - b) * steps * inner);
  return m;
}

/** Splits `n` rows into `parts` contiguous blocks as even as possible (sizes differ by at most one; empty ones dropped). */
export function splitRows(n: number, parts: number): { offset: number; rows: number }[] {
  const out: { offset: number; rows: number }[] = [];
  const p = Math.max(1, Math.min(parts, n));
  let offset = 0;
  for (let i = 0; i < p; i++) {
    const rows = Math.floor(n / p) + (i < n % p ? 1 : 0);
    out.push({ offset, rows });
    offset += rows;
  }
  return out;
}

/**
 * Splits rows of these lengths into `parts` contiguous blocks that minimise the largest block's padded size
 * (rows × its longest row: what a padded batch costs to run), so no participant waits long for another.
 */
export function splitRowsByLength(lengths: readonly number[], parts: number): { offset: number; rows: number }[] {
  const n = lengths.length;
  const p = Math.max(1, Math.min(parts, n));
  if (p === 1) return [{ offset: 0, rows: n }];
  // cost[j][i]: block j..i-1; best[k][i]: the first i rows in k blocks
  const cost = (j: number, i: number) => { let m = 0; for (let r = j; r < i; r++) m = Math.max(m, lengths[r]); return (i - j) * m; };
  const best: number[][] = Array.from({ length: p + 1 }, () => new Array(n + 1).fill(Infinity));
  const cut: number[][] = Array.from({ length: p + 1 }, () => new Array(n + 1).fill(0));
  best[0][0] = 0;
  for (let k = 1; k <= p; k++) {
    for (let i = k; i <= n - (p - k); i++) {
      for (let j = k - 1; j < i; j++) {
        const c = Math.max(best[k - 1][j], cost(j, i));
        // ties go to the more even cut
        if (c < best[k][i] || (c === best[k][i] && Math.abs(i - j - n / p) < Math.abs(i - cut[k][i] - n / p))) { best[k][i] = c; cut[k][i] = j; }
      }
    }
  }
  const out: { offset: number; rows: number }[] = [];
  for (let k = p, i = n; k > 0; k--) { const j = cut[k][i]; out.unshift({ offset: j, rows: i - j }); i = j; }
  return out;
}
