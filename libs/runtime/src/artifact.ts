import * as tf from '@tensorflow/tfjs-core';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from './errors.ts';
import { readJson, recoverDir, writeDirAtomic } from './io.ts';
import { encodeSafetensors, loadSafetensors, type HostTensor, type TensorMap } from './safetensors.ts';

/** Copies tensors to host memory (dataSync), keyed by name. */
export function tensorsToHost(ts: Record<string, tf.Tensor>): TensorMap {
  const out: TensorMap = {};
  for (const [k, t] of Object.entries(ts)) {
    out[k] = { dtype: t.dtype === 'int32' ? 'int32' : 'float32', shape: t.shape.slice(), data: t.dataSync() as Float32Array | Int32Array };
  }
  return out;
}

export function hostToTensor(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype);
}

/**
 * Fetches a tensor from a loaded map, checking its shape; a missing or mis-shaped tensor is a
 * UserError naming the artifact file and the tensor.
 */
export function takeTensor(tensors: TensorMap, name: string, shape: number[] | undefined, source: string): HostTensor {
  const t = tensors[name];
  if (!t) throw new UserError(`missing tensor '${name}'`, { file: source });
  if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
    throw new UserError(`tensor '${name}' has shape [${t.shape}], expected [${shape}]`, { file: source });
  }
  return t;
}

export interface ArtifactContents {
  config: Record<string, unknown>;
  tensors: TensorMap;
  /** training state for resume (optimizer moments live in `tensors` under 'optimizer/…') */
  state?: Record<string, unknown>;
  /** further files: vocabularies and the like */
  files?: Record<string, string | Uint8Array>;
}

export const WEIGHTS_FILE = 'model.safetensors';

/**
 * Writes an artifact folder — config.json, model.safetensors, optional state.json and extra files —
 * atomically: the folder appears complete or not at all.
 */
export function saveArtifact(dir: string, a: ArtifactContents): void {
  writeDirAtomic(dir, (tmp) => writeArtifactFiles(tmp, a));
}

/** Writes an artifact's files into an existing (temporary) folder; saveArtifact and checkpoints place it. */
export function writeArtifactFiles(dir: string, a: ArtifactContents): void {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(a.config, null, 2) + '\n');
  writeFileSync(join(dir, WEIGHTS_FILE), encodeSafetensors(a.tensors, { format: 'biore' }));
  if (a.state) writeFileSync(join(dir, 'state.json'), JSON.stringify(a.state) + '\n');
  for (const [name, content] of Object.entries(a.files ?? {})) writeFileSync(join(dir, name), content);
}

export function loadArtifact(dir: string): { config: Record<string, unknown>; tensors: TensorMap; state?: Record<string, unknown> } {
  recoverDir(dir);
  if (!existsSync(dir)) throw new UserError('artifact folder not found', { file: dir });
  const config = readJson<Record<string, unknown>>(join(dir, 'config.json'), 'config.json');
  const { tensors } = loadSafetensors(join(dir, WEIGHTS_FILE));
  const statePath = join(dir, 'state.json');
  const state = existsSync(statePath) ? readJson<Record<string, unknown>>(statePath, 'state.json') : undefined;
  return { config, tensors, state };
}
