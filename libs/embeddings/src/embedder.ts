import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '@biore/runtime';

/** A JSON description from which an embedder is rebuilt: its type plus whatever that type needs (artifact paths, options). */
export interface EmbedderSpec {
  type: string;
  [option: string]: unknown;
}

/**
 * The one contract every word representation fills (as flair's TokenEmbeddings): GloVe, CSE, ELMo, BERT.
 * A model given an Embedder never asks which one it is.
 */
export interface Embedder {
  /** short name for logs and configs: 'glove', 'cse', 'elmo', 'bert', 'stack' */
  readonly name: string;
  /** the length of each token's vector */
  readonly embeddingLength: number;
  /**
   * Embeds a batch of tokenized sentences as [batch, maxLen, embeddingLength], maxLen being the longest
   * sentence in the batch; positions past a sentence's end are zero. The result does not depend on which
   * other sentences share the batch. Callers run it inside tf.tidy.
   */
  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D;
  /**
   * Optional: computes ahead, in length-sorted batches, whatever a frozen encoder would otherwise compute on
   * each `embed` of these sentences (CSE's LMs, a fixed biLM), so that training epochs read it from memory.
   * Leaves `embed`'s results unchanged. Returns how many sentences it computed (0: all were ready).
   */
  precompute?(sentences: readonly (readonly string[])[]): number;
  /** variables trained with the downstream model (ELMo's scalar mix, say); empty when the embedding is frozen */
  trainableVariables(): tf.Variable[];
  /** the spec that rebuilds this embedder with `loadEmbedder` */
  describe(): EmbedderSpec;
  dispose(): void;
}

export type EmbedderFactory = (spec: EmbedderSpec) => Promise<Embedder> | Embedder;

/** What a registered type says about itself: where its artifact is by default, and how to build one. */
export interface EmbedderTypeInfo {
  /** the artifact folder the pre-training app writes by default */
  defaultPath?: () => string;
  /** the command that builds that artifact */
  buildHint?: string;
  /** options a spec of this type gets unless it says otherwise */
  defaults?: Record<string, unknown>;
}

const factories = new Map<string, EmbedderFactory>();
const infos = new Map<string, EmbedderTypeInfo>();

/** Each adapter registers its type once; `loadEmbedder` then rebuilds any spec without a switch on types. */
export function registerEmbedderType(type: string, factory: EmbedderFactory, info: EmbedderTypeInfo = {}): void {
  factories.set(type, factory);
  infos.set(type, info);
}

export function embedderTypeInfo(type: string): EmbedderTypeInfo | undefined {
  return infos.get(type);
}

/** The registered types that have a default artifact (the members `--embeddings a+b` may name). */
export function memberTypes(): string[] {
  return [...infos.entries()].filter(([, i]) => i.defaultPath).map(([t]) => t);
}

export async function loadEmbedder(spec: EmbedderSpec): Promise<Embedder> {
  const f = factories.get(spec?.type);
  if (!f) throw new UserError(`unknown embedding type '${spec?.type}'; known: ${[...factories.keys()].join(', ')}`);
  return f(spec);
}

/** Pads token id rows to the batch's longest sentence: helper for adapters that look vectors up by id. */
export function maxLength(sentences: readonly (readonly string[])[]): number {
  let m = 0;
  for (const s of sentences) m = Math.max(m, s.length);
  return m;
}
