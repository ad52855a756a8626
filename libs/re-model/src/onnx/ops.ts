import type * as tf from '@tensorflow/tfjs-core';
import { OnnxGraph, f } from './graph.ts';

/** A variable's values on the host (a copy, so later training cannot change an export in progress). */
export function hostValues(v: tf.Tensor): Float32Array {
  return Float32Array.from(v.dataSync() as Float32Array);
}

/** x·W + b on the last axis (MatMul broadcasts over leading axes). */
export function dense(g: OnnxGraph, x: string, kernel: tf.Tensor, bias: tf.Tensor | undefined, hint: string): string {
  const W = g.weight(`${hint}/kernel`, hostValues(kernel), kernel.shape);
  const y = g.op1('MatMul', [x, W]);
  return bias ? g.op1('Add', [y, g.weight(`${hint}/bias`, hostValues(bias), bias.shape)]) : y;
}

/** Dimension `axis` of x as a 1-D int64 tensor [1]. */
export function dimOf(g: OnnxGraph, x: string, axis: number): string {
  return g.op1('Gather', [g.op1('Shape', [x]), g.ints([axis])], { axis: 0 });
}

/** [B, T] float mask, 1 where t < lengths[b] (lengths int32 [B]; T taken from `like`'s axis `axis`). */
export function lengthMask(g: OnnxGraph, lengths: string, like: string, axis = 1, offset = 0): string {
  const T = g.op1('Squeeze', [dimOf(g, like, axis), g.ints([0])]);
  const range = g.op1('Range', [g.ints([0], []), T, g.ints([1], [])]);
  let len = g.op1('Cast', [lengths], { to: 7 });
  if (offset) len = g.op1('Add', [len, g.ints([offset], [])]);
  const less = g.op1('Less', [g.op1('Unsqueeze', [range, g.ints([0])]), g.op1('Unsqueeze', [len, g.ints([1])])]);
  return g.op1('Cast', [less], { to: 1 });
}

/** Zeros [B, n], B being `batchDim` ([1] int64). */
export function zerosRows(g: OnnxGraph, batchDim: string, n: number): string {
  return g.op1('ConstantOfShape', [g.op1('Concat', [batchDim, g.ints([n])], { axis: 0 })]);
}

/** softmax over axis 1 of scores [B, T] restricted to mask (exactly 0 elsewhere), as nn's additiveAttention. */
export function maskedSoftmax(g: OnnxGraph, scores: string, mask: string): string {
  const penalty = g.op1('Mul', [g.op1('Sub', [g.floats([1]), mask]), g.floats([-1e9])]);
  return g.op1('Mul', [g.op1('Softmax', [g.op1('Add', [scores, penalty])], { axis: 1 }), mask]);
}

/** What the exporters read of an nn LSTM (an LSTM itself, or its variables found by name). */
export interface LstmWeights {
  name: string;
  kernel: tf.Tensor;
  recurrentKernel: tf.Tensor;
  bias: tf.Tensor;
  projection?: tf.Tensor;
  cfg: { inputSize: number; hiddenSize: number; cellClip?: number; projClip?: number };
}

/** An LSTM's weights from a variable map holding `${name}/kernel`, `${name}/recurrent_kernel`, `${name}/bias`. */
export function lstmWeightsByName(vars: Record<string, tf.Tensor>, name: string): LstmWeights {
  const kernel = vars[`${name}/kernel`], recurrentKernel = vars[`${name}/recurrent_kernel`], bias = vars[`${name}/bias`];
  if (!kernel || !recurrentKernel || !bias) throw new Error(`no LSTM variables under '${name}'`);
  return { name, kernel, recurrentKernel, bias, projection: vars[`${name}/projection`], cfg: { inputSize: kernel.shape[0]!, hiddenSize: kernel.shape[1]! / 4 } };
}

/**
 * nn's LSTM blocks are i, f, g, o along the 4H axis; ONNX's are i, o, f, c. Returns [4H, inner] rows in ONNX order
 * from a [inner, 4H] kernel (the transpose ONNX's W and R want).
 */
function onnxGateRows(kernel: Float32Array, inner: number, H: number): Float32Array {
  const out = new Float32Array(4 * H * inner);
  const fromBlock = [0, 3, 1, 2];
  for (let k = 0; k < 4; k++) {
    const src = fromBlock[k];
    for (let h = 0; h < H; h++) for (let d = 0; d < inner; d++) out[(k * H + h) * inner + d] = kernel[d * 4 * H + src * H + h];
  }
  return out;
}

function onnxGateBias(bias: Float32Array, H: number): Float32Array {
  const out = new Float32Array(8 * H);
  const fromBlock = [0, 3, 1, 2];
  for (let k = 0; k < 4; k++) out.set(bias.subarray(fromBlock[k] * H, (fromBlock[k] + 1) * H), k * H);
  return out;
}

/**
 * The ONNX LSTM node for one nn LSTM (no projection, no clipping) or a forward/backward pair (bidirectional):
 * input time-major [T, B, D]; returns Y [T, dirs, B, H] and Y_h [dirs, B, H].
 */
export function onnxLstm(g: OnnxGraph, x: string, layers: LstmWeights[], hint: string, seqLens?: string): { Y: string; Yh: string } {
  const { inputSize: D, hiddenSize: H } = layers[0].cfg;
  for (const l of layers) if (l.projection || l.cfg.cellClip !== undefined || l.cfg.projClip !== undefined) throw new Error(`${l.name}: the ONNX LSTM op has no projection or cell clipping; use lstmScan`);
  const n = layers.length;
  const W = new Float32Array(n * 4 * H * D), R = new Float32Array(n * 4 * H * H), B = new Float32Array(n * 8 * H);
  layers.forEach((l, k) => {
    W.set(onnxGateRows(hostValues(l.kernel), D, H), k * 4 * H * D);
    R.set(onnxGateRows(hostValues(l.recurrentKernel), H, H), k * 4 * H * H);
    B.set(onnxGateBias(hostValues(l.bias), H), k * 8 * H);
  });
  const inputs = [x, g.weight(`${hint}/W`, W, [n, 4 * H, D]), g.weight(`${hint}/R`, R, [n, 4 * H, H]), g.weight(`${hint}/B`, B, [n, 8 * H]), seqLens ?? ''];
  const [Y, Yh] = g.op('LSTM', inputs, { hidden_size: H, direction: n === 2 ? 'bidirectional' : 'forward' }, 2);
  return { Y, Yh };
}

/**
 * An nn LSTM with projection and clipping (ELMo's LSTMP) as an ONNX Scan over time: the input projection of
 * all steps is one MatMul outside the loop; each step is h·U, the gates, the cell (clipped), h = (o ⊙ tanh c)·P
 * (clipped). Input time-major [T, B, D] from a zero state; returns the outputs [T, B, P].
 */
export function lstmScan(g: OnnxGraph, x: string, lstm: LstmWeights, hint: string): string {
  const { hiddenSize: H, cellClip, projClip } = lstm.cfg;
  const P: number = lstm.projection ? lstm.projection.shape[1]! : H;
  const xw = g.op1('Add', [g.op1('MatMul', [x, g.weight(`${hint}/kernel`, hostValues(lstm.kernel), lstm.kernel.shape)]), g.weight(`${hint}/bias`, hostValues(lstm.bias), lstm.bias.shape)]);
  const U = g.weight(`${hint}/recurrent_kernel`, hostValues(lstm.recurrentKernel), lstm.recurrentKernel.shape);
  const Pw = lstm.projection ? g.weight(`${hint}/projection`, hostValues(lstm.projection), lstm.projection.shape) : undefined;
  const body = new OnnxGraph(`${hint}/step`);
  const hPrev = body.input(`${hint}/h_prev`, 'float', ['batch', P]);
  const cPrev = body.input(`${hint}/c_prev`, 'float', ['batch', H]);
  const xt = body.input(`${hint}/xw_t`, 'float', ['batch', 4 * H]);
  const z = body.op1('Add', [xt, body.op1('MatMul', [hPrev, U])]);
  const [zi, zf, zg, zo] = body.op('Split', [z], { axis: 1 }, 4);
  let c = body.op1('Add', [body.op1('Mul', [body.op1('Sigmoid', [zf]), cPrev]), body.op1('Mul', [body.op1('Sigmoid', [zi]), body.op1('Tanh', [zg])])]);
  if (cellClip !== undefined) c = body.op1('Clip', [c, body.floats([-cellClip]), body.floats([cellClip])]);
  const m = body.op1('Mul', [body.op1('Sigmoid', [zo]), body.op1('Tanh', [c])]);
  let h = Pw ? body.op1('MatMul', [m, Pw]) : m;
  if (projClip !== undefined) h = body.op1('Clip', [h, body.floats([-projClip]), body.floats([projClip])]);
  body.op1('Identity', [h], {}, `${hint}/h`);
  body.op1('Identity', [c], {}, `${hint}/c`);
  body.op1('Identity', [h], {}, `${hint}/y`);
  body.output(`${hint}/h`, 'float', ['batch', P]);
  body.output(`${hint}/c`, 'float', ['batch', H]);
  body.output(`${hint}/y`, 'float', ['batch', P]);
  const batch = dimOf(g, x, 1);
  const [, , ys] = g.op('Scan', [zerosRows(g, batch, P), zerosRows(g, batch, H), xw], { body, num_scan_inputs: 1 }, 3);
  return ys;
}

/** LayerNormalization over the last axis (opset 17). */
export function layerNorm(g: OnnxGraph, x: string, gamma: tf.Tensor, beta: tf.Tensor, eps: number, hint: string): string {
  return g.op1('LayerNormalization', [x, g.weight(`${hint}/gamma`, hostValues(gamma), gamma.shape), g.weight(`${hint}/beta`, hostValues(beta), beta.shape)], { axis: -1, epsilon: f(eps) });
}
