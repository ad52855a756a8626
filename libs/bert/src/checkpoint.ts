import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, encodeSafetensors, loadSafetensors, readJson, writeDirAtomic, type HostTensor, type TensorMap } from '@biore/runtime';
import { SentencePieceTokenizer, WordPieceTokenizer, readVocabFile, type SubwordTokenizer, type WordPieceOptions } from '@biore/text';
import { bertConfigJson, parseBertConfig, type BertConfig } from './config.ts';
import { BertModel, bertParamSpecs } from './model.ts';
import { loadTorchStateDict } from './torch.ts';

export interface LoadedBert {
  config: BertConfig;
  model: BertModel;
  tokenizer: WordPieceTokenizer;
  /** whether the tokenizer lower-cases (tokenizer_config.json, else config.json, else inferred from the vocabulary) */
  doLowerCase: boolean;
  dir: string;
}

export interface LoadBertOptions {
  /** also load (or, if absent, initialise) the masked-LM head, for further pre-training */
  withMlmHead?: boolean;
  /** tokenizer options (markers, lower-casing override) */
  tokenizer?: WordPieceOptions;
  /** accept a vocab.txt shorter than the embedding matrix (some checkpoints pad the matrix) */
  allowExtraEmbeddingRows?: boolean;
}

/** The name a HF checkpoint may use for one of our parameters: with or without `bert.`, LayerNorm gamma/beta of TF exports. */
function candidates(name: string): string[] {
  const base = name.startsWith('cls.') ? [name] : [`bert.${name}`, name];
  const out = [...base];
  for (const b of base) {
    if (b.includes('LayerNorm.weight')) out.push(b.replace('LayerNorm.weight', 'LayerNorm.gamma'));
    if (b.includes('LayerNorm.bias')) out.push(b.replace('LayerNorm.bias', 'LayerNorm.beta'));
  }
  return out;
}

function transpose2d(t: HostTensor): Float32Array {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return out;
}

/**
 * Builds a BertModel from HF-named tensors (PyTorch layout). Every missing or mis-shaped tensor is a
 * UserError naming `source` and the tensor; an absent MLM head is initialised when `withMlmHead`.
 */
export function bertFromTensors(config: BertConfig, tensors: TensorMap, source: string, withMlmHead = false, seed = 1): BertModel {
  const values = new Map<string, tf.Tensor>();
  try {
    for (const s of bertParamSpecs(config, withMlmHead)) {
      const hit = candidates(s.name).find((n) => tensors[n]);
      if (!hit) {
        if (s.mlmHead) continue;
        throw new UserError(`missing tensor '${candidates(s.name)[0]}' (also looked for ${candidates(s.name).slice(1).map((n) => `'${n}'`).join(', ')})`, { file: source });
      }
      const t = tensors[hit];
      if (t.shape.length !== s.hfShape.length || t.shape.some((d, i) => d !== s.hfShape[i])) {
        throw new UserError(`tensor '${hit}' has shape [${t.shape}], expected [${s.hfShape}] from config.json`, { file: source });
      }
      if (t.dtype !== 'float32') throw new UserError(`tensor '${hit}' has integer dtype, expected floats`, { file: source });
      values.set(s.name, s.linear ? tf.tensor2d(transpose2d(t), [s.hfShape[1], s.hfShape[0]]) : tf.tensor(t.data, t.shape));
    }
    return new BertModel(config, { withMlmHead, values, seed });
  } finally {
    for (const v of values.values()) v.dispose();
  }
}

/** The model's parameters as HF-named host tensors in PyTorch layout (Linear weights [out, in]), `bert.` prefixed. */
export function bertToTensors(model: BertModel): TensorMap {
  const out: TensorMap = {};
  for (const s of model.specs) {
    const v = model.p(s.name);
    const data = v.dataSync() as Float32Array;
    const host: HostTensor = { dtype: 'float32', shape: v.shape.slice(), data: Float32Array.from(data) };
    const name = s.name.startsWith('cls.') ? s.name : `bert.${s.name}`;
    out[name] = s.linear ? { dtype: 'float32', shape: s.hfShape.slice(), data: transpose2d(host) } : host;
  }
  return out;
}

function inferLowerCase(vocab: readonly string[]): boolean {
  // a cased vocabulary holds upper-case word pieces; an uncased one has none outside [SPECIAL] tokens
  return !vocab.some((t) => !/^\[.*\]$/.test(t) && /\p{Lu}/u.test(t));
}

function readWeights(dir: string): { tensors: TensorMap; weightsPath: string } {
  const st = join(dir, 'model.safetensors');
  if (existsSync(st)) return { tensors: loadSafetensors(st).tensors, weightsPath: st };
  const pt = join(dir, 'pytorch_model.bin');
  // read by a pickle interpreter that only rebuilds tensors (see torch.ts); nothing is executed
  if (existsSync(pt)) return { tensors: loadTorchStateDict(pt), weightsPath: pt };
  throw new UserError(existsSync(join(dir, 'tf_model.h5'))
    ? 'only tf_model.h5 found: convert it to model.safetensors (transformers: BertModel.from_pretrained(dir, from_tf=True).save_pretrained(dir, safe_serialization=True))'
    : 'neither model.safetensors nor pytorch_model.bin found', { file: dir });
}

function embeddingRows(tensors: TensorMap): number | undefined {
  const emb = candidates('embeddings.word_embeddings.weight').map((n) => tensors[n]).find(Boolean);
  return emb && emb.shape.length === 2 ? emb.shape[0] : undefined;
}

function readConfigs(dir: string): { config: BertConfig; tokConfig: Record<string, unknown> } {
  if (!existsSync(dir)) throw new UserError('BERT folder not found', { file: dir });
  const configPath = join(dir, 'config.json');
  const config = parseBertConfig(readJson<Record<string, unknown>>(configPath, 'config.json'), configPath);
  const tokConfigPath = join(dir, 'tokenizer_config.json');
  const tokConfig = existsSync(tokConfigPath) ? readJson<Record<string, unknown>>(tokConfigPath, 'tokenizer_config.json') : {};
  return { config, tokConfig };
}

/**
 * Loads a Hugging Face BERT folder — `config.json`, `vocab.txt`, `model.safetensors` or else a
 * `pytorch_model.bin` (optional `tokenizer_config.json`) — with one call.
 */
export function loadBert(dir: string, o: LoadBertOptions = {}): LoadedBert {
  const { config, tokConfig } = readConfigs(dir);
  const vocabPath = join(dir, 'vocab.txt');
  const vocab = readVocabFile(vocabPath);
  const { tensors, weightsPath } = readWeights(dir);
  const rows = embeddingRows(tensors);
  if (rows !== undefined && (vocab.length > rows || (vocab.length < rows && !o.allowExtraEmbeddingRows))) {
    throw new UserError(`vocab.txt has ${vocab.length} tokens but the word embeddings have ${rows} rows (config vocab_size ${config.vocab_size})`, { file: vocabPath });
  }
  const doLowerCase = o.tokenizer?.doLowerCase ??
    (typeof tokConfig.do_lower_case === 'boolean' ? tokConfig.do_lower_case : config.do_lower_case ?? inferLowerCase(vocab));
  const tokenizer = new WordPieceTokenizer(vocab, { source: vocabPath, ...o.tokenizer, doLowerCase });
  const model = bertFromTensors(config, tensors, weightsPath, o.withMlmHead ?? false);
  return { config, model, tokenizer, doLowerCase, dir };
}

export interface LoadedAnyBert extends Omit<LoadedBert, 'tokenizer'> {
  tokenizer: SubwordTokenizer;
}

/**
 * Like loadBert, for folders with either tokenizer: `vocab.txt` (WordPiece), or else a SentencePiece
 * `.model` (spiece.model, sentencepiece.bpe.model, …) read through sentencepiece-js, locally.
 */
export async function loadBertAny(dir: string, o: LoadBertOptions = {}): Promise<LoadedAnyBert> {
  if (!existsSync(dir) || existsSync(join(dir, 'vocab.txt'))) return loadBert(dir, o);
  const spm = readdirSync(dir).filter((f) => f.endsWith('.model')).sort();
  if (spm.length === 0) throw new UserError('no tokenizer: neither vocab.txt nor a SentencePiece .model', { file: dir });
  if (o.tokenizer?.markers && Object.keys(o.tokenizer.markers).length) {
    throw new UserError('entity markers mapped to [unused] tokens need a WordPiece vocab.txt; this BERT ships a SentencePiece model', { file: dir });
  }
  const { config, tokConfig } = readConfigs(dir);
  const doLowerCase = o.tokenizer?.doLowerCase ?? (typeof tokConfig.do_lower_case === 'boolean' ? tokConfig.do_lower_case : config.do_lower_case ?? false);
  const tokenizer = await SentencePieceTokenizer.load(join(dir, spm[0]), { doLowerCase });
  const { tensors, weightsPath } = readWeights(dir);
  const model = bertFromTensors(config, tensors, weightsPath, o.withMlmHead ?? false);
  return { config, model, tokenizer, doLowerCase, dir };
}

/** Writes a model as a HF BERT folder (config.json, vocab.txt, tokenizer_config.json, model.safetensors), atomically. */
export function saveBert(dir: string, model: BertModel, vocab: readonly string[], doLowerCase: boolean, extraFiles: Record<string, string | Uint8Array> = {}): void {
  const tensors = bertToTensors(model);
  writeDirAtomic(dir, (tmp) => {
    writeFileSync(join(tmp, 'config.json'), JSON.stringify({ ...bertConfigJson(model.config), do_lower_case: doLowerCase }, null, 2) + '\n');
    writeFileSync(join(tmp, 'vocab.txt'), vocab.join('\n') + '\n');
    writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: doLowerCase, tokenizer_class: 'BertTokenizer' }, null, 2) + '\n');
    writeFileSync(join(tmp, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
    for (const [n, c] of Object.entries(extraFiles)) writeFileSync(join(tmp, n), c);
  });
}
