import * as tf from '@tensorflow/tfjs-core';
import { hostToTensor, tensorsToHost, type TensorMap } from '@biore/runtime';

export interface OptimizerState { json: Record<string, unknown>; tensors: TensorMap }

/**
 * Updates variables in place from gradients keyed like the variables. State (slots, step count, lr) round-trips
 * exactly through getState/setState, so a resumed run continues the same trajectory. Slot tensors are
 * keyed '<variable name>/<slot>'; prefix them (e.g. 'optimizer/') when storing beside weights.
 */
export interface Optimizer {
  readonly name: string;
  lr: number;
  step(grads: Record<string, tf.Tensor>, vars: Record<string, tf.Variable>): void;
  getState(): OptimizerState;
  setState(s: OptimizerState): void;
  dispose(): void;
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: string;
  protected slots = new Map<string, tf.Variable>();
  protected steps = 0;
  constructor(public lr: number) {}

  protected slot(key: string, like: tf.Tensor, init: number): tf.Variable {
    let v = this.slots.get(key);
    if (!v) {
      v = tf.variable(tf.fill(like.shape, init), false);
      this.slots.set(key, v);
    }
    return v;
  }

  protected abstract update(key: string, v: tf.Variable, g: tf.Tensor): void;
  protected abstract hyper(): Record<string, unknown>;
  protected abstract setHyper(j: Record<string, unknown>): void;

  step(grads: Record<string, tf.Tensor>, vars: Record<string, tf.Variable>): void {
    this.steps++;
    for (const [key, g] of Object.entries(grads)) {
      const v = vars[key];
      if (!v) throw new Error(`${this.name}: gradient for unknown variable '${key}'`);
      if (g == null) continue;
      tf.tidy(() => this.update(key, v, g));
    }
  }

  getState(): OptimizerState {
    const tensors = tensorsToHost(Object.fromEntries(this.slots));
    return { json: { optimizer: this.name, lr: this.lr, steps: this.steps, ...this.hyper() }, tensors };
  }

  setState(s: OptimizerState): void {
    if (s.json.optimizer !== this.name) throw new Error(`optimizer state is for '${String(s.json.optimizer)}', not '${this.name}'`);
    this.dispose();
    this.lr = Number(s.json.lr);
    this.steps = Number(s.json.steps);
    this.setHyper(s.json);
    for (const [k, h] of Object.entries(s.tensors)) this.slots.set(k, tf.variable(hostToTensor(h), false));
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

/** Plain SGD with optional momentum (heavy ball, as torch.optim.SGD). */
export class SGD extends SlotOptimizer {
  readonly name = 'sgd';
  constructor(lr: number, public momentum = 0) { super(lr); }
  protected update(key: string, v: tf.Variable, g: tf.Tensor): void {
    if (this.momentum > 0) {
      const buf = this.slot(`${key}/momentum`, v, 0);
      buf.assign(tf.add(tf.mul(buf, this.momentum), g));
      v.assign(tf.sub(v, tf.mul(buf, this.lr)));
    } else {
      v.assign(tf.sub(v, tf.mul(g, this.lr)));
    }
  }
  protected hyper() { return { momentum: this.momentum }; }
  protected setHyper(j: Record<string, unknown>) { this.momentum = Number(j.momentum ?? 0); }
}

/** Adam; with weightDecay > 0 it is AdamW (decoupled decay: v ← v − lr·wd·v, outside the moments). */
export class Adam extends SlotOptimizer {
  readonly name = 'adam';
  /** `decayExempt(key)`: variables decoupled weight decay skips (BERT: biases and LayerNorm) */
  constructor(lr: number, public opts: { beta1?: number; beta2?: number; epsilon?: number; weightDecay?: number } = {},
    readonly decayExempt: (key: string) => boolean = () => false) { super(lr); }
  protected update(key: string, v: tf.Variable, g: tf.Tensor): void {
    const b1 = this.opts.beta1 ?? 0.9;
    const b2 = this.opts.beta2 ?? 0.999;
    const eps = this.opts.epsilon ?? 1e-8;
    const wd = this.opts.weightDecay ?? 0;
    const m = this.slot(`${key}/m`, v, 0);
    const s = this.slot(`${key}/v`, v, 0);
    m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
    s.assign(tf.add(tf.mul(s, b2), tf.mul(tf.square(g), 1 - b2)));
    const mHat = tf.div(m, 1 - Math.pow(b1, this.steps));
    const sHat = tf.div(s, 1 - Math.pow(b2, this.steps));
    let next = tf.sub(v, tf.mul(tf.div(mHat, tf.add(tf.sqrt(sHat), eps)), this.lr));
    if (wd > 0 && !this.decayExempt(key)) next = tf.sub(next, tf.mul(v, this.lr * wd));
    v.assign(next);
  }
  protected hyper() { return { ...this.opts }; }
  protected setHyper(j: Record<string, unknown>) {
    const o: Record<string, number> = {};
    for (const k of ['beta1', 'beta2', 'epsilon', 'weightDecay']) if (j[k] !== undefined) o[k] = Number(j[k]);
    this.opts = o;
  }
}

/** Adagrad as in TensorFlow (and bilm-tf): accumulators start at initialAccumulator (0.1), no epsilon. */
export class Adagrad extends SlotOptimizer {
  readonly name = 'adagrad';
  constructor(lr: number, public initialAccumulator = 0.1) { super(lr); }
  protected update(key: string, v: tf.Variable, g: tf.Tensor): void {
    const acc = this.slot(`${key}/accumulator`, v, this.initialAccumulator);
    acc.assign(tf.add(acc, tf.square(g)));
    v.assign(tf.sub(v, tf.mul(tf.div(g, tf.sqrt(acc)), this.lr)));
  }
  protected hyper() { return { initialAccumulator: this.initialAccumulator }; }
  protected setHyper(j: Record<string, unknown>) { this.initialAccumulator = Number(j.initialAccumulator ?? 0.1); }
}

/**
 * Scales all gradients by maxNorm / ‖g‖ when the global L2 norm exceeds maxNorm (TF clip_by_global_norm).
 * Returns new tensors when clipped and the same ones otherwise; the inputs are not disposed.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const entries = Object.entries(grads).filter(([, g]) => g != null);
  if (entries.length === 0) return { grads, norm: 0 };
  const norm = tf.tidy(() => tf.sqrt(tf.addN(entries.map(([, g]) => tf.sum(tf.square(g))))).dataSync()[0]);
  if (!(norm > maxNorm)) return { grads, norm };
  const f = maxNorm / norm;
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of entries) out[k] = tf.mul(g, f);
  return { grads: out, norm };
}
