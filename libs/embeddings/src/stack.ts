import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '@biore/runtime';
import { loadEmbedder, registerEmbedderType, type Embedder, type EmbedderSpec } from './embedder.ts';

/** The concatenation of its members' vectors, in order, and nothing more (flair's StackedEmbeddings). */
export class StackedEmbedder implements Embedder {
  readonly name: string;
  readonly embeddingLength: number;
  constructor(readonly members: Embedder[]) {
    if (members.length === 0) throw new UserError('an embedding stack needs at least one member');
    this.name = members.map((m) => m.name).join('+');
    this.embeddingLength = members.reduce((s, m) => s + m.embeddingLength, 0);
  }
  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    if (this.members.length === 1) return this.members[0].embed(sentences);
    return tf.tidy(() => tf.concat(this.members.map((m) => m.embed(sentences)), 2) as tf.Tensor3D);
  }
  precompute(sentences: readonly (readonly string[])[]): number {
    return this.members.reduce((n, m) => n + (m.precompute?.(sentences) ?? 0), 0);
  }
  trainableVariables(): tf.Variable[] {
    return this.members.flatMap((m) => m.trainableVariables());
  }
  describe(): EmbedderSpec {
    return { type: 'stack', members: this.members.map((m) => m.describe()) };
  }
  dispose(): void {
    for (const m of this.members) m.dispose();
  }
}

registerEmbedderType('stack', async (spec) => {
  const members = spec.members as EmbedderSpec[] | undefined;
  if (!Array.isArray(members)) throw new UserError("a 'stack' embedding spec needs a 'members' list");
  return new StackedEmbedder(await Promise.all(members.map(loadEmbedder)));
});
