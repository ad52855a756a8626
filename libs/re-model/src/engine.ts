import type { RelationInstance } from '@biore/re-data';
import { UserError } from '@biore/runtime';
import type { REModel } from './contract.ts';
import { predict, type Prediction } from './evaluate.ts';
import { loadREModel } from './io.ts';

/**
 * What extraction runs on: a trained RE model behind one interface, computed by tfjs (the training code) or by
 * a native engine (onnxruntime-node). Predictions come back in input order.
 */
export interface InferenceEngine {
  readonly name: string;
  readonly labels: readonly string[];
  predict(instances: readonly RelationInstance[], opts?: { attention?: boolean; batchSize?: number }): Promise<Prediction[]>;
  dispose(): Promise<void> | void;
}

export type EngineFactory = (modelDir: string, opts: { threads?: number }) => Promise<InferenceEngine>;

const engines = new Map<string, EngineFactory>();

export function registerEngine(name: string, factory: EngineFactory): void {
  engines.set(name, factory);
}

export function engineNames(): string[] {
  return [...engines.keys()];
}

/** Opens a model folder with the named engine ('tfjs', 'onnx', ...). */
export async function openEngine(name: string, modelDir: string, opts: { threads?: number } = {}): Promise<InferenceEngine> {
  const f = engines.get(name);
  if (!f) throw new UserError(`--engine must be one of ${engineNames().join(', ')}, got '${name}'`);
  return f(modelDir, opts);
}

/** The tfjs engine: the model's own forward pass, in length-sorted batches. */
export class TfjsEngine implements InferenceEngine {
  readonly name = 'tfjs';
  constructor(readonly model: REModel) {}
  get labels(): readonly string[] { return this.model.labels; }
  async predict(instances: readonly RelationInstance[], opts: { attention?: boolean; batchSize?: number } = {}): Promise<Prediction[]> {
    return predict(this.model, instances, opts.batchSize ?? 32, { attention: opts.attention });
  }
  dispose(): void { this.model.dispose(); }
}

registerEngine('tfjs', async (dir) => new TfjsEngine(await loadREModel(dir)));
