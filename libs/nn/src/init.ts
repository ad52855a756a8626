import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@biore/runtime';

/** Weights are drawn on the host from the seeded Rng, so the same seed gives the same model on every backend. */
export function uniformVariable(name: string, shape: number[], limit: number, rng: Rng): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * rng.next() - 1) * limit;
  return variableFrom(data, shape, name);
}

export function normalVariable(name: string, shape: number[], std: number, rng: Rng): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
  return variableFrom(data, shape, name);
}

export function constantVariable(name: string, shape: number[], value: number | Float32Array): tf.Variable {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = typeof value === 'number' ? new Float32Array(n).fill(value) : value;
  return variableFrom(data, shape, name);
}

/** A trainable variable holding `data`; the temporary initial tensor is disposed (it would count as a live tensor). */
function variableFrom(data: Float32Array, shape: number[], name: string): tf.Variable {
  const t = tf.tensor(data, shape, 'float32');
  const v = tf.variable(t, true, uniqueName(name));
  t.dispose();
  return v;
}

/** Glorot/Xavier uniform limit for a [fanIn, fanOut] kernel. */
export function glorotLimit(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

// tfjs variable names are global; two models built in one process may share slash names, so the
// engine name gets a counter while `variables()` keys stay the stable slash names.
let counter = 0;
function uniqueName(name: string): string {
  return `${name}_${counter++}`;
}
