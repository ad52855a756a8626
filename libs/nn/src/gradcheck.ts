import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@biore/runtime';

export interface GradCheckResult {
  /** max over checked coordinates of |analytic − numeric| / max(|analytic| + |numeric|, floor) */
  maxRelError: number;
  checked: number;
  worst?: { variable: string; index: number; analytic: number; numeric: number };
}

/**
 * Compares tf.variableGrads of a scalar loss with central differences (f(x+ε) − f(x−ε)) / 2ε on a sample of
 * coordinates of each variable. float32 limits the agreement to ~1e-3 relative at ε ≈ 1e-2 on small cases.
 */
export function numericalGradientCheck(
  loss: () => tf.Scalar,
  vars: Record<string, tf.Variable>,
  opts: { epsilon?: number; perVariable?: number; rng?: Rng; floor?: number } = {},
): GradCheckResult {
  const eps = opts.epsilon ?? 1e-2;
  const per = opts.perVariable ?? 8;
  const floor = opts.floor ?? 1e-3;
  const names = Object.keys(vars);
  const { grads } = tf.variableGrads(loss, names.map((n) => vars[n]));
  const result: GradCheckResult = { maxRelError: 0, checked: 0 };
  const evalLoss = () => tf.tidy(() => loss().dataSync()[0]);
  for (const name of names) {
    const v = vars[name];
    const g = grads[v.name].dataSync();
    const base = v.dataSync().slice() as Float32Array;
    const n = base.length;
    const idx = n <= per ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: per }, () => (opts.rng ? opts.rng.int(n) : Math.floor(Math.random() * n)));
    for (const i of idx) {
      const set = (val: number) => {
        const d = base.slice();
        d[i] = val;
        tf.tidy(() => v.assign(tf.tensor(d, v.shape, 'float32')));
      };
      set(base[i] + eps);
      const up = evalLoss();
      set(base[i] - eps);
      const down = evalLoss();
      set(base[i]);
      const numeric = (up - down) / (2 * eps);
      const analytic = g[i];
      const rel = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic) + Math.abs(numeric), floor);
      result.checked++;
      if (rel > result.maxRelError) result.maxRelError = rel, result.worst = { variable: name, index: i, analytic, numeric };
    }
  }
  for (const t of Object.values(grads)) t.dispose();
  return result;
}
