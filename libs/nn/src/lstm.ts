import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@biore/runtime';
import { constantVariable, uniformVariable } from './init.ts';
import { affine, linear, matMulTA } from './matmul.ts';
import { permuteRows } from './permute.ts';

/**
 * Gate order inside the fused 4H axis of kernel, recurrent_kernel and bias: i, f, g, o (PyTorch's; Keras'
 * i, f, c, o is the same). TF1 LSTMCell / bilm-tf use i, j(=g), f, o: importers permute the column blocks.
 */
export interface LSTMConfig {
  inputSize: number;
  hiddenSize: number;
  /** LSTMP: h = (o ⊙ tanh c)·P with P [hiddenSize, projectionSize] (ELMo) */
  projectionSize?: number;
  /** clip the cell state to [-cellClip, cellClip] (bilm-tf cell_clip) */
  cellClip?: number;
  /** clip the projected output to [-projClip, projClip] (bilm-tf proj_clip) */
  projClip?: number;
  /** written into the forget-gate block of the bias at initialisation; default 1 */
  forgetBias?: number;
}

export interface LSTMState { h: tf.Tensor2D; c: tf.Tensor2D }

export interface LSTMForwardOptions {
  /** true length of each sequence (right padding); default: all T */
  lengths?: number[];
  /** run right-to-left, each sequence starting at its own last real token */
  reverse?: boolean;
  initial?: LSTMState;
  /** 'fused' (default): hand-written backward for the whole recurrence; 'autodiff': tfjs tape per op (reference) */
  impl?: 'fused' | 'autodiff';
}

/**
 * A unidirectional LSTM, fast on op-overhead-bound backends: the input projection of all time steps is one
 * [T·B, D]×[D, 4H] matmul; each step is one h·U matmul, one add and one sigmoid over the whole 4H (the g
 * block is pre-scaled by 2 so tanh(z) = 2σ(2z) − 1); the backward of the whole recurrence is hand-written
 * (tf.customGrad) with the weight gradients as single large matmuls over all steps.
 */
export class LSTM {
  readonly outputSize: number;
  readonly kernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly projection?: tf.Variable;

  constructor(readonly name: string, readonly cfg: LSTMConfig, rng: Rng) {
    const { inputSize: D, hiddenSize: H } = cfg;
    if (!(D > 0 && H > 0)) throw new Error(`LSTM ${name}: inputSize and hiddenSize must be positive`);
    this.outputSize = cfg.projectionSize ?? H;
    const lim = 1 / Math.sqrt(H); // PyTorch's default LSTM initialisation
    this.kernel = uniformVariable(`${name}/kernel`, [D, 4 * H], lim, rng);
    this.recurrentKernel = uniformVariable(`${name}/recurrent_kernel`, [this.outputSize, 4 * H], lim, rng);
    const b = new Float32Array(4 * H);
    b.fill(cfg.forgetBias ?? 1, H, 2 * H);
    this.bias = constantVariable(`${name}/bias`, [4 * H], b);
    if (cfg.projectionSize) this.projection = uniformVariable(`${name}/projection`, [H, cfg.projectionSize], lim, rng);
  }

  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = {
      [`${this.name}/kernel`]: this.kernel,
      [`${this.name}/recurrent_kernel`]: this.recurrentKernel,
      [`${this.name}/bias`]: this.bias,
    };
    if (this.projection) v[`${this.name}/projection`] = this.projection;
    return v;
  }

  forward(x: tf.Tensor3D, opts: LSTMForwardOptions = {}): { outputs: tf.Tensor3D; final: LSTMState } {
    const [B, T, D] = x.shape;
    if (D !== this.cfg.inputSize) throw new Error(`LSTM ${this.name}: input size ${D}, expected ${this.cfg.inputSize}`);
    const H = this.cfg.hiddenSize;
    const P = this.outputSize;
    const lengths = opts.lengths ?? new Array(B).fill(T);
    if (lengths.length !== B) throw new Error(`LSTM ${this.name}: ${lengths.length} lengths for batch ${B}`);
    for (const len of lengths) if (!Number.isInteger(len) || len < 0 || len > T) throw new Error(`LSTM ${this.name}: length ${len} outside [0, ${T}]`);
    // src[b][t]: which input position feeds step t (reversal within each sequence's own length)
    const src = (b: number, t: number) => (opts.reverse && t < lengths[b] ? lengths[b] - 1 - t : t);
    const inIdx = new Int32Array(T * B);
    const outIdx = new Int32Array(B * T);
    const mask = new Float32Array(B * T);
    const finalIdx = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        inIdx[t * B + b] = b * T + src(b, t);
        outIdx[b * T + src(b, t)] = t * B + b;
        mask[b * T + t] = t < lengths[b] ? 1 : 0;
      }
      finalIdx[b] = lengths[b] * B + b;
    }
    const useMask = lengths.some((l) => l < T);
    const reversal = !!opts.reverse && lengths.some((l) => l > 1);
    return tf.tidy(() => {
      // g columns scaled by 2: tanh(z) = 2σ(2z) − 1, so one sigmoid covers all four gates
      const scale = tf.concat([tf.ones([2 * H]), tf.fill([H], 2), tf.ones([H])]);
      // time-major input (reversed within each length when going right to left): a transpose when no reversal is needed
      const xTm = (reversal
        ? permuteRows(tf.reshape(x, [B * T, D]) as tf.Tensor2D, inIdx)
        : tf.reshape(tf.transpose(x, [1, 0, 2]), [T * B, D])) as tf.Tensor2D;
      const xw = affine(xTm, tf.mul(this.kernel, scale) as tf.Tensor2D, tf.mul(this.bias, scale) as tf.Tensor1D);
      const us = tf.mul(this.recurrentKernel, scale) as tf.Tensor2D;
      const h0 = opts.initial?.h ?? tf.zeros([B, P]);
      const c0 = opts.initial?.c ?? tf.zeros([B, H]);
      const xs = tf.reshape(xw, [T, B, 4 * H]) as tf.Tensor3D;
      const spec: RecurrenceSpec = { H, P, cellClip: this.cfg.cellClip, projClip: this.cfg.projClip };
      const packed = T === 0
        ? tf.concat([tf.expandDims(h0, 0), tf.expandDims(c0, 0)], 2)
        : (opts.impl === 'autodiff' ? recurrenceAutodiff : recurrenceFused)(spec, xs, us, this.projection as tf.Tensor2D | undefined, h0 as tf.Tensor2D, c0 as tf.Tensor2D);
      // packed [T+1, B, P+H]: index 0 is the initial state, index t+1 the state after step t
      const hs = tf.slice(packed, [0, 0, 0], [T + 1, B, P]);
      const cs = tf.slice(packed, [0, 0, P], [T + 1, B, H]);
      const fin = tf.tensor1d(finalIdx, 'int32');
      const h = tf.gather(tf.reshape(hs, [(T + 1) * B, P]), fin) as tf.Tensor2D;
      const c = tf.gather(tf.reshape(cs, [(T + 1) * B, H]), fin) as tf.Tensor2D;
      const steps = tf.slice(hs, [1, 0, 0], [T, B, P]);
      let outputs = (reversal
        ? tf.reshape(permuteRows(tf.reshape(steps, [T * B, P]) as tf.Tensor2D, outIdx), [B, T, P])
        : tf.transpose(steps, [1, 0, 2])) as tf.Tensor3D;
      if (useMask) outputs = tf.mul(outputs, tf.tensor3d(mask, [B, T, 1])) as tf.Tensor3D;
      return { outputs, final: { h, c } };
    });
  }
}

interface RecurrenceSpec { H: number; P: number; cellClip?: number; projClip?: number }

/** One step's state update from the sigmoid of the (g-scaled) pre-activations. */
function cellUpdate(s: tf.Tensor2D, cPrev: tf.Tensor2D, H: number, cellClip?: number) {
  // four slices rather than tf.split: wasm's SplitV bypasses the registry and copies its whole input per output
  const [B] = s.shape;
  const [i, f, gs, o] = [0, 1, 2, 3].map((k) => tf.slice(s, [0, k * H], [B, H])) as tf.Tensor2D[];
  const g = tf.sub(tf.mul(gs, 2), 1);
  let c = tf.add(tf.mul(f, cPrev), tf.mul(i, g)) as tf.Tensor2D;
  const cRaw = c;
  if (cellClip !== undefined) c = tf.clipByValue(c, -cellClip, cellClip);
  const tc = tf.tanh(c) as tf.Tensor2D;
  const m = tf.mul(o, tc) as tf.Tensor2D;
  return { c, cRaw, tc, m };
}

/** Reference recurrence: every op on the tfjs tape. Returns packed [T+1, B, P+H]. */
function recurrenceAutodiff(spec: RecurrenceSpec, xs: tf.Tensor3D, us: tf.Tensor2D, proj: tf.Tensor2D | undefined, h0: tf.Tensor2D, c0: tf.Tensor2D): tf.Tensor3D {
  const steps = tf.unstack(xs) as tf.Tensor2D[];
  const hs: tf.Tensor2D[] = [h0];
  const cs: tf.Tensor2D[] = [c0];
  let h = h0;
  let c = c0;
  for (const xt of steps) {
    const s = tf.sigmoid(tf.add(xt, linear(h, us))) as tf.Tensor2D;
    const u = cellUpdate(s, c, spec.H, spec.cellClip);
    c = u.c;
    h = proj ? linear(u.m, proj) : u.m;
    if (spec.projClip !== undefined) h = tf.clipByValue(h, -spec.projClip, spec.projClip) as tf.Tensor2D;
    hs.push(h);
    cs.push(c);
  }
  return tf.concat([tf.stack(hs), tf.stack(cs)], 2) as tf.Tensor3D;
}

/**
 * Fused recurrence with a hand-written backward (BPTT). Per step backward: two adds, a matmul by Uᵀ,
 * one concat and one multiply for all four gate gradients (their local derivatives precomputed for all
 * steps at once), and the carry to the previous cell. dU and dP are each one matmul over all steps.
 */
function recurrenceFused(spec: RecurrenceSpec, xs: tf.Tensor3D, us: tf.Tensor2D, proj: tf.Tensor2D | undefined, h0: tf.Tensor2D, c0: tf.Tensor2D): tf.Tensor3D {
  const { H, P, cellClip, projClip } = spec;
  const [T, B] = xs.shape;
  const run = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xsT, usT, h0T, c0T] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const projT = proj ? (args[4] as tf.Tensor2D) : undefined;
    const xAt = stepper(xsT);
    const hs: tf.Tensor2D[] = [h0T];
    const cs: tf.Tensor2D[] = [c0T];
    const ss: tf.Tensor2D[] = [];
    const tcs: tf.Tensor2D[] = [];
    const ms: tf.Tensor2D[] = [];
    const cRaws: tf.Tensor2D[] = [];
    const hRaws: tf.Tensor2D[] = [];
    let h = h0T;
    let c = c0T;
    for (let t = 0; t < T; t++) {
      const s = tf.sigmoid(tf.add(xAt(t), tf.matMul(h, usT))) as tf.Tensor2D;
      const u = cellUpdate(s, c, H, cellClip);
      c = u.c;
      const hRaw: tf.Tensor2D = projT ? tf.matMul(u.m, projT) : u.m;
      h = projClip !== undefined ? (tf.clipByValue(hRaw, -projClip, projClip) as tf.Tensor2D) : hRaw;
      ss.push(s); tcs.push(u.tc); ms.push(u.m); cRaws.push(u.cRaw); hRaws.push(hRaw);
      hs.push(h);
      cs.push(c);
    }
    const H_ = tf.stack(hs) as tf.Tensor3D;
    const C_ = tf.stack(cs) as tf.Tensor3D;
    const S = tf.stack(ss) as tf.Tensor3D;
    const TC = tf.stack(tcs) as tf.Tensor3D;
    // inputs the backward needs must be saved too: the caller's tidy disposes them before backprop
    const toSave: tf.Tensor[] = [H_, C_, S, TC, usT];
    if (projT) toSave.push(tf.stack(ms), projT);
    if (cellClip !== undefined) toSave.push(tf.lessEqual(tf.abs(tf.stack(cRaws)), cellClip).toFloat());
    if (projClip !== undefined) toSave.push(tf.lessEqual(tf.abs(tf.stack(hRaws)), projClip).toFloat());
    save(toSave);
    const value = tf.concat([H_, C_], 2) as tf.Tensor3D;
    const gradFunc = (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [Hs, Cs, Ss, TCs] = saved as tf.Tensor3D[];
      const UT = tf.transpose(saved[4] as tf.Tensor2D);
      let k = 5;
      const Ms = projT ? (saved[k++] as tf.Tensor3D) : undefined;
      const PT = projT ? tf.transpose(saved[k++] as tf.Tensor2D) : undefined;
      const cMask = cellClip !== undefined ? (saved[k++] as tf.Tensor3D) : undefined;
      const pMask = projClip !== undefined ? (saved[k++] as tf.Tensor3D) : undefined;
      const Cprev = tf.slice(Cs, [0, 0, 0], [T, B, H]);
      const [I, F, Gs, O] = [0, 1, 2, 3].map((k) => tf.slice(Ss, [0, 0, k * H], [T, B, H])) as tf.Tensor3D[];
      // ds/dz = s(1−s) for every gate; Q holds each gate's full local factor so dz = [dc,dc,dc,dm] ⊙ Q
      const sd = tf.mul(Ss, tf.sub(1, Ss));
      const G = tf.sub(tf.mul(Gs, 2), 1);
      const Q = stepper(tf.mul(tf.concat([G, Cprev, tf.mul(I, 2), TCs], 2), sd) as tf.Tensor3D);
      const K = stepper(tf.mul(O, tf.sub(1, tf.square(TCs))) as tf.Tensor3D);
      const Fs = stepper(F);
      const dyH = stepper(tf.slice(dy, [0, 0, 0], [T + 1, B, P]));
      const dyC = stepper(tf.slice(dy, [0, 0, P], [T + 1, B, H]));
      const cMasks = cMask ? stepper(cMask) : undefined;
      const pMasks = pMask ? stepper(pMask) : undefined;
      const dzs: tf.Tensor2D[] = new Array(T);
      const dhRaws: tf.Tensor2D[] = new Array(T);
      let dhNext: tf.Tensor2D | undefined;
      let dcNext: tf.Tensor2D | undefined;
      for (let t = T - 1; t >= 0; t--) {
        let dh = dhNext ? (tf.add(dyH(t + 1), dhNext) as tf.Tensor2D) : dyH(t + 1);
        if (pMasks) dh = tf.mul(dh, pMasks(t)) as tf.Tensor2D;
        dhRaws[t] = dh;
        const dm = PT ? (tf.matMul(dh, PT) as tf.Tensor2D) : dh;
        let dc = tf.add(dcNext ? tf.add(dyC(t + 1), dcNext) : dyC(t + 1), tf.mul(dm, K(t))) as tf.Tensor2D;
        if (cMasks) dc = tf.mul(dc, cMasks(t)) as tf.Tensor2D;
        const dz = tf.mul(tf.concat([dc, dc, dc, dm], 1), Q(t)) as tf.Tensor2D;
        dzs[t] = dz;
        dcNext = tf.mul(dc, Fs(t)) as tf.Tensor2D;
        dhNext = tf.matMul(dz, UT) as tf.Tensor2D;
      }
      const DZ = tf.stack(dzs) as tf.Tensor3D;
      const DZ2 = tf.reshape(DZ, [T * B, 4 * H]) as tf.Tensor2D;
      const Hprev = tf.reshape(tf.slice(Hs, [0, 0, 0], [T, B, P]), [T * B, P]) as tf.Tensor2D;
      const dUs = matMulTA(Hprev, DZ2);
      const dh0 = tf.add(dyH(0), dhNext!);
      const dc0 = tf.add(dyC(0), dcNext!);
      const grads: tf.Tensor[] = [DZ, dUs, dh0, dc0];
      if (projT) {
        const dHr = tf.reshape(tf.stack(dhRaws), [T * B, P]) as tf.Tensor2D;
        grads.push(matMulTA(tf.reshape(Ms!, [T * B, H]) as tf.Tensor2D, dHr));
      }
      return grads;
    };
    return { value, gradFunc };
  });
  const inputs: tf.Tensor[] = [xs, us, h0, c0];
  if (proj) inputs.push(proj);
  return (run as (...ts: tf.Tensor[]) => tf.Tensor)(...inputs) as tf.Tensor3D;
}

/** Step t of a time-major [T, B, N] tensor as [B, N] (a slice per step: cheap with runtime's heap-view Slice kernel on wasm). */
function stepper(x: tf.Tensor3D): (t: number) => tf.Tensor2D {
  const [, B, N] = x.shape;
  return (t) => tf.reshape(tf.slice(x, [t, 0, 0], [1, B, N]), [B, N]) as tf.Tensor2D;
}

/**
 * Bidirectional LSTM: forward and backward directions (the backward one reversed within each length),
 * concatenated fw ++ bw. The directions run one after the other: stepping both as one batched [2, B, ·]
 * recurrence was measured ~17× slower on wasm (its batched matmul does not use the fast 2-D path).
 */
export class BiLSTM {
  readonly fw: LSTM;
  readonly bw: LSTM;
  readonly outputSize: number;
  constructor(readonly name: string, cfg: LSTMConfig, rng: Rng) {
    this.fw = new LSTM(`${name}/fw`, cfg, rng);
    this.bw = new LSTM(`${name}/bw`, cfg, rng);
    this.outputSize = 2 * this.fw.outputSize;
  }

  forward(x: tf.Tensor3D, opts: { lengths?: number[]; impl?: 'fused' | 'autodiff' } = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const a = this.fw.forward(x, { lengths: opts.lengths, impl: opts.impl }).outputs;
      const b = this.bw.forward(x, { lengths: opts.lengths, reverse: true, impl: opts.impl }).outputs;
      return tf.concat([a, b], 2) as tf.Tensor3D;
    });
  }

  variables(): Record<string, tf.Variable> {
    return { ...this.fw.variables(), ...this.bw.variables() };
  }
}

/**
 * FLOPs of one LSTM forward + backward over [B, T, D] (matmuls only, 2 per multiply-add; backward = 2× forward),
 * the count benchmarks divide by time.
 */
export function lstmFlops(B: number, T: number, D: number, H: number, P: number = H): number {
  const fwd = 2 * B * T * (D * 4 * H + P * 4 * H + (P !== H ? H * P : 0));
  return 3 * fwd;
}
