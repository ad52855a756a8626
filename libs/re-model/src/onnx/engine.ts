import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '@biore/runtime';
import type { RelationInstance } from '@biore/re-data';
import type { REModel } from '../contract.ts';
import { evalBatches } from '../batches.ts';
import { registerEngine, type InferenceEngine } from '../engine.ts';
import type { Prediction } from '../evaluate.ts';
import { loadREModel } from '../io.ts';
import { BEST } from '../trainer.ts';
import { LiteREModel } from '../lite.ts';
import { BertREModel } from '../bert-re.ts';
import type { Feeds } from './embedders.ts';
import { liteFeeds, liteGraph } from './lite.ts';
import { bertFeeds, bertGraph, wordAttention } from './bert.ts';

export const ONNX_FILE = 'model.onnx';

/** The ONNX graph of a loaded RE model (either family) and the host function that feeds it a prepared batch. */
export function exportOnnx(model: REModel): { bytes: Uint8Array; feeds: (batch: unknown) => Feeds } {
  if (model instanceof LiteREModel) return { bytes: liteGraph(model).toModel({ family: 'lite' }), feeds: liteFeeds(model) as (b: unknown) => Feeds };
  if (model instanceof BertREModel) return { bytes: bertGraph(model).toModel({ family: 'bert' }), feeds: bertFeeds(model) as (b: unknown) => Feeds };
  throw new UserError(`RE model family '${model.family}' has no ONNX export`);
}

/** The folder holding a model's config.json: a run folder's best/, or the folder itself. */
export function artifactFolder(dir: string): string {
  return existsSync(join(dir, BEST, 'config.json')) ? join(dir, BEST) : dir;
}

/** Loads the model in `dir`, exports it, and writes model.onnx beside its config.json. Returns the file and its size. */
export async function exportModelDir(dir: string): Promise<{ file: string; bytes: number }> {
  const art = artifactFolder(dir);
  const model = await loadREModel(dir);
  try {
    const { bytes } = exportOnnx(model);
    const file = join(art, ONNX_FILE);
    writeFileSync(file, bytes);
    return { file, bytes: bytes.length };
  } finally {
    model.dispose();
  }
}

function toOrt(feeds: Feeds): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
}

/**
 * The onnx engine: host-side preparation by the model's own `prepare` (indicators, tokens, ids), the tensor math by
 * onnxruntime-node on its native CPU kernels, all cores unless `threads` says otherwise.
 */
export class OnnxEngine implements InferenceEngine {
  readonly name = 'onnx';
  private constructor(readonly model: REModel, private readonly session: ort.InferenceSession, private readonly feeds: (batch: unknown) => Feeds) {}

  /**
   * A session over `onnx` (bytes or a file) for `model`, whose host-side half (prepare, vocabularies, character
   * dictionaries, tokenizer) builds the inputs. With `ownsModel` the model's tfjs weights are released at once:
   * the host-side half needs none of them, and the engine then holds the weights only in onnxruntime.
   */
  static async open(model: REModel, onnx: Uint8Array | string, opts: { threads?: number; ownsModel?: boolean } = {}): Promise<OnnxEngine> {
    const threads = opts.threads ?? cpus().length;
    const bytes = typeof onnx === 'string' ? readFileSync(onnx) : onnx;
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const feeds = model instanceof LiteREModel ? liteFeeds(model) : model instanceof BertREModel ? bertFeeds(model) : undefined;
    if (!feeds) throw new UserError(`RE model family '${model.family}' has no ONNX engine`);
    if (opts.ownsModel) model.dispose();
    return new OnnxEngine(model, session, feeds as (b: unknown) => Feeds);
  }

  get labels(): readonly string[] { return this.model.labels; }

  /** Logits and attention of one prepared batch, as the tfjs forward pass gives them. */
  async run(batch: unknown): Promise<{ logits: Float32Array; attention?: Float32Array; attentionDims?: number[] }> {
    const out = await this.session.run(toOrt(this.feeds(batch)));
    const logits = out.logits.data as Float32Array;
    const att = out.attention ?? out.piece_attention;
    if (!att) return { logits };
    if (out.piece_attention) return { logits, ...wordAttention(batch as never, att.data as Float32Array) };
    return { logits, attention: att.data as Float32Array, attentionDims: att.dims as number[] };
  }

  async predict(instances: readonly RelationInstance[], opts: { attention?: boolean; batchSize?: number } = {}): Promise<Prediction[]> {
    const out: Prediction[] = new Array(instances.length);
    const C = this.labels.length;
    for (const idx of evalBatches(instances.map((i) => i.tokens.length), opts.batchSize ?? 32)) {
      const batch = this.model.prepare(idx.map((i) => instances[i]));
      const words = this.model.words(batch);
      const { logits, attention, attentionDims } = await this.run(batch);
      idx.forEach((i, k) => {
        const row = logits.subarray(k * C, (k + 1) * C);
        const m = Math.max(...row);
        const e = Array.from(row, (x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b, 0);
        const probabilities = e.map((x) => x / z);
        let best = 0;
        for (let c = 1; c < C; c++) if (probabilities[c] > probabilities[best]) best = c;
        const W = attentionDims?.[1] ?? 0;
        out[i] = {
          label: this.labels[best], probabilities, words: words[k],
          attention: opts.attention && attention ? Array.from(attention.subarray(k * W, k * W + words[k].length)) : undefined,
        };
      });
    }
    return out;
  }

  async dispose(): Promise<void> {
    // the model is the caller's, or was released at open
    await this.session.release();
  }
}

registerEngine('onnx', async (dir, opts) => {
  const file = join(artifactFolder(dir), ONNX_FILE);
  if (!existsSync(file)) throw new UserError(`no ${ONNX_FILE} beside the model: export it first (nx run re-lite:export-onnx --model ${dir}, or re-bert:export-onnx)`, { file });
  return OnnxEngine.open(await loadREModel(dir), file, { ...opts, ownsModel: true });
});
