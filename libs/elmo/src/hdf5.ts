import * as tf from '@tensorflow/tfjs-core';
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import h5wasm from 'h5wasm/node';
import { Rng, UserError, readJson } from '@biore/runtime';
import { BidirectionalLM } from './model.ts';
import { type BilmOptions, cnnWidth, parseBilmOptions } from './options.ts';

/*
 * The bilm-tf weights layout (as bilm-tf's dump_weights writes it and allennlp's loaders read it):
 *   char_embed                                        [261, char_dim]  (bilm-tf ids, no padding row)
 *   CNN/W_cnn_{i}, CNN/b_cnn_{i}                      [1, width, char_dim, n], [n]
 *   CNN_high_{k}/W_carry, b_carry, W_transform, b_transform   [F, F], [F]
 *   CNN_proj/W_proj, CNN_proj/b_proj                  [F, P], [P]   (only when F ≠ P)
 *   RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_0     [P + P, 4H]  kernel over [input; h], gates i, j, f, o
 *   RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/B       [4H]          without TF's run-time forget bias 1.0
 *   RNN_{d}/RNN/MultiRNNCell/Cell{l}/LSTMCell/W_P_0   [H, P]
 * d = 0 forward, 1 backward. Our LSTM (@biore/nn) keeps gates i, f, g, o with the forget bias inside the
 * bias, so import swaps the j and f blocks and adds 1 to f; export undoes both.
 */

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function assertHdf5(path: string): void {
  if (!existsSync(path)) throw new UserError('weights file not found', { file: path });
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(8);
  try {
    readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  // the superblock may also sit at 512, 1024, … when a user block precedes it; bilm-tf files have it at 0
  if (!HDF5_SIGNATURE.every((b, i) => head[i] === b)) throw new UserError('not an HDF5 file (no HDF5 signature at its start)', { file: path });
}

type H5File = InstanceType<typeof h5wasm.File>;

async function openH5(path: string, mode: 'r' | 'w'): Promise<H5File> {
  await h5wasm.ready;
  return new h5wasm.File(resolve(path), mode);
}

function readDataset(f: H5File, name: string, shape: number[], file: string): Float32Array {
  const d = f.get(name);
  if (!d || !(d instanceof h5wasm.Dataset)) throw new UserError(`missing HDF5 dataset '${name}'`, { file });
  const s = d.shape ?? [];
  if (s.length !== shape.length || s.some((x, i) => x !== shape[i])) {
    throw new UserError(`HDF5 dataset '${name}' has shape [${s}], expected [${shape}] from options.json`, { file });
  }
  const v = d.value;
  if (!(v instanceof Float32Array || v instanceof Float64Array)) throw new UserError(`HDF5 dataset '${name}' is not floating point (dtype ${JSON.stringify(d.dtype)})`, { file });
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** Swaps gate blocks 1 and 2 along the last axis (TF i,j,f,o ↔ i,f,j,o); its own inverse. */
function swapMiddleGates(data: Float32Array, H: number): Float32Array {
  const out = data.slice();
  const cols = 4 * H;
  for (let r = 0; r < data.length / cols; r++) {
    const o = r * cols;
    out.set(data.subarray(o + 2 * H, o + 3 * H), o + H);
    out.set(data.subarray(o + H, o + 2 * H), o + 2 * H);
  }
  return out;
}

function cellPath(dir: number, layer: number): string {
  return `RNN_${dir}/RNN/MultiRNNCell/Cell${layer}/LSTMCell`;
}

/** Reads and checks a bilm-tf options.json. */
export function readBilmOptions(path: string): BilmOptions {
  return parseBilmOptions(readJson(path, 'options.json'), path);
}

/**
 * Loads a published biLM (allennlp/bilm-tf `options.json` + `weights.hdf5`, e.g. the PubMed ELMo) for embedding.
 * A missing or mis-shaped dataset is a UserError naming it.
 */
export async function loadBilmHdf5(optionsPath: string, weightsPath: string): Promise<BidirectionalLM> {
  const options = readBilmOptions(optionsPath);
  assertHdf5(weightsPath);
  const f = await openH5(weightsPath, 'r');
  const model = new BidirectionalLM(options, 0, new Rng(0));
  try {
    const set = (v: tf.Variable, data: Float32Array) => tf.tidy(() => v.assign(tf.tensor(data, v.shape, 'float32')));
    const o = options;
    const D = o.char_cnn.embedding.dim;
    const F = cnnWidth(o);
    const P = o.lstm.projection_dim;
    const H = o.lstm.dim;
    const chars = readDataset(f, 'char_embed', [261, D], weightsPath);
    const withPad = new Float32Array(262 * D);
    withPad.set(chars, D);
    set(model.cnn.charEmbed, withPad);
    o.char_cnn.filters.forEach(([w, n], i) => {
      set(model.cnn.kernels[i], readDataset(f, `CNN/W_cnn_${i}`, [1, w, D, n], weightsPath));
      set(model.cnn.biases[i], readDataset(f, `CNN/b_cnn_${i}`, [n], weightsPath));
    });
    model.highway?.layers.forEach((l, k) => {
      set(l.W_carry, readDataset(f, `CNN_high_${k}/W_carry`, [F, F], weightsPath));
      set(l.b_carry, readDataset(f, `CNN_high_${k}/b_carry`, [F], weightsPath));
      set(l.W_transform, readDataset(f, `CNN_high_${k}/W_transform`, [F, F], weightsPath));
      set(l.b_transform, readDataset(f, `CNN_high_${k}/b_transform`, [F], weightsPath));
    });
    if (model.projection) {
      set(model.projection.kernel, readDataset(f, 'CNN_proj/W_proj', [F, P], weightsPath));
      set(model.projection.bias!, readDataset(f, 'CNN_proj/b_proj', [P], weightsPath));
    }
    for (let l = 0; l < o.lstm.n_layers; l++) {
      for (const [dir, lstm] of [[0, model.forwardLayers[l]], [1, model.backwardLayers[l]]] as const) {
        const p = cellPath(dir, l);
        const W = swapMiddleGates(readDataset(f, `${p}/W_0`, [P + P, 4 * H], weightsPath), H);
        set(lstm.kernel, W.subarray(0, P * 4 * H));
        set(lstm.recurrentKernel, W.subarray(P * 4 * H));
        const B = swapMiddleGates(readDataset(f, `${p}/B`, [4 * H], weightsPath), H);
        for (let j = H; j < 2 * H; j++) B[j] += 1; // TF's LSTMCell adds forget_bias 1.0 at run time
        set(lstm.bias, B);
        set(lstm.projection!, readDataset(f, `${p}/W_P_0`, [H, P], weightsPath));
      }
    }
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    f.close();
  }
  return model;
}

/**
 * Writes a biLM's weights in the bilm-tf layout above (atomically: a temporary name, then rename), so a model
 * trained here loads wherever the published ones do. The softmax is written as `softmax/W`, `softmax/b`.
 */
export async function writeBilmHdf5(model: BidirectionalLM, path: string): Promise<void> {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.tmp-${process.pid}`);
  const f = await openH5(tmp, 'w');
  try {
    const o = model.options;
    const H = o.lstm.dim;
    const P = o.lstm.projection_dim;
    const groups = new Set<string>();
    const put = (name: string, data: Float32Array, shape: number[]) => {
      const parts = name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const g = parts.slice(0, i).join('/');
        if (!groups.has(g)) { f.create_group(g); groups.add(g); }
      }
      f.create_dataset({ name, data, shape, dtype: '<f4' });
    };
    const host = (v: tf.Tensor) => v.dataSync() as Float32Array;
    const D = o.char_cnn.embedding.dim;
    put('char_embed', host(model.cnn.charEmbed).slice(D), [261, D]);
    o.char_cnn.filters.forEach(([w, n], i) => {
      put(`CNN/W_cnn_${i}`, host(model.cnn.kernels[i]), [1, w, D, n]);
      put(`CNN/b_cnn_${i}`, host(model.cnn.biases[i]), [n]);
    });
    const F = cnnWidth(o);
    model.highway?.layers.forEach((l, k) => {
      put(`CNN_high_${k}/W_carry`, host(l.W_carry), [F, F]);
      put(`CNN_high_${k}/b_carry`, host(l.b_carry), [F]);
      put(`CNN_high_${k}/W_transform`, host(l.W_transform), [F, F]);
      put(`CNN_high_${k}/b_transform`, host(l.b_transform), [F]);
    });
    if (model.projection) {
      put('CNN_proj/W_proj', host(model.projection.kernel), [F, P]);
      put('CNN_proj/b_proj', host(model.projection.bias!), [P]);
    }
    for (let l = 0; l < o.lstm.n_layers; l++) {
      for (const [dir, lstm] of [[0, model.forwardLayers[l]], [1, model.backwardLayers[l]]] as const) {
        const p = cellPath(dir, l);
        const W = new Float32Array(2 * P * 4 * H);
        W.set(host(lstm.kernel), 0);
        W.set(host(lstm.recurrentKernel), P * 4 * H);
        put(`${p}/W_0`, swapMiddleGates(W, H), [2 * P, 4 * H]);
        const B = host(lstm.bias).slice();
        for (let j = H; j < 2 * H; j++) B[j] -= 1;
        put(`${p}/B`, swapMiddleGates(B, H), [4 * H]);
        put(`${p}/W_P_0`, host(lstm.projection!), [H, P]);
      }
    }
    if (model.softmaxW && model.softmaxB) {
      put('softmax/W', host(model.softmaxW), [model.vocabSize, P]);
      put('softmax/b', host(model.softmaxB), [model.vocabSize]);
    }
  } catch (e) {
    f.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  f.close();
  renameSync(tmp, path);
}
