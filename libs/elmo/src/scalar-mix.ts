import * as tf from '@tensorflow/tfjs-core';

/**
 * ELMo's task-specific combination of the biLM layers (Peters et al. 2018, eq. 1; allennlp's ScalarMix):
 * γ · Σ_k softmax(s)_k · h_k, with s initialised to zeros (equal weights) and γ to 1.
 */
export class ScalarMix {
  readonly weights: tf.Variable;
  readonly gamma: tf.Variable;
  constructor(readonly numLayers: number, init: { weights?: number[]; gamma?: number } = {}, trainable = true) {
    const w = init.weights ?? new Array(numLayers).fill(0);
    if (w.length !== numLayers) throw new Error(`scalar mix: ${w.length} weights for ${numLayers} layers`);
    this.weights = tf.variable(tf.tensor1d(w), trainable);
    this.gamma = tf.variable(tf.scalar(init.gamma ?? 1), trainable);
  }

  /** layers: numLayers tensors of one shape → their mix. */
  apply(layers: tf.Tensor[]): tf.Tensor {
    if (layers.length !== this.numLayers) throw new Error(`scalar mix: got ${layers.length} layers, expected ${this.numLayers}`);
    return tf.tidy(() => {
      const s = tf.unstack(tf.softmax(this.weights));
      return tf.mul(tf.addN(layers.map((h, k) => tf.mul(h, s[k]))), this.gamma);
    });
  }

  /** the softmax-normalised layer weights and γ, for describe() and logs */
  values(): { weights: number[]; gamma: number; normalized: number[] } {
    return {
      weights: Array.from(this.weights.dataSync()),
      gamma: this.gamma.dataSync()[0],
      normalized: tf.tidy(() => Array.from(tf.softmax(this.weights).dataSync())),
    };
  }

  variables(): tf.Variable[] {
    return [this.weights, this.gamma];
  }

  dispose(): void {
    this.weights.dispose();
    this.gamma.dispose();
  }
}
