import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, encodeSafetensors, loadSafetensors, loadTorchStateDict, readJson, writeDirAtomic, type HostTensor, type TensorMap } from '@biore/runtime';
import { SentencePieceTokenizer, WordPieceTokenizer, readTokenizerJson, readVocabFile, tokenizerJson, type SubwordTokenizer, type WordPieceOptions } from '@biore/text';
import { bertConfigJson, parseBertConfig, type BertConfig } from './config.ts';
import { BertModel, bertParamSpecs } from './model.ts';

export interface LoadedBert {
  config: BertConfig;
  model: BertModel;
  tokenizer: WordPieceTokenizer;
  /** whether the tokenizer lower-cases (tokenizer_config.json, else config.json, else inferred from the vocabulary) */
  doLowerCase: boolean;
  dir: string;
  /** one-line notices about what was filled in (e.g. a freshly initialised pooler); also written to stderr */
  notices: string[];
}

export interface LoadBertOptions {
  /** also load (or, if absent, initialise) the masked-LM head, for further pre-training */
  withMlmHead?: boolean;
  /** tokenizer options (markers, lower-casing override) */
  tokenizer?: WordPieceOptions;
  /** accept a vocab.txt shorter than the embedding matrix (some checkpoints pad the matrix) */
  allowExtraEmbeddingRows?: boolean;
  /** where notices go; default one line each on stderr */
  onNotice?: (line: string) => void;
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
 * UserError naming `source` and the tensor; an absent MLM head is initialised when `withMlmHead`, and an
 * absent pooler (a BertForMaskedLM checkpoint has none) is initialised as transformers does, with a notice.
 */
export function bertFromTensors(config: BertConfig, tensors: TensorMap, source: string, withMlmHead = false, seed = 1, notices: string[] = []): BertModel {
  const values = new Map<string, tf.Tensor>();
  let poolerMissing = false;
  try {
    for (const s of bertParamSpecs(config, withMlmHead)) {
      const hit = candidates(s.name).find((n) => tensors[n]);
      if (!hit) {
        if (s.mlmHead) continue;
        if (s.pooler) { poolerMissing = true; continue; }
        throw new UserError(`missing tensor '${candidates(s.name)[0]}' (also looked for ${candidates(s.name).slice(1).map((n) => `'${n}'`).join(', ')})`, { file: source });
      }
      const t = tensors[hit];
      if (t.shape.length !== s.hfShape.length || t.shape.some((d, i) => d !== s.hfShape[i])) {
        throw new UserError(`tensor '${hit}' has shape [${t.shape}], expected [${s.hfShape}] from config.json`, { file: source });
      }
      if (t.dtype !== 'float32') throw new UserError(`tensor '${hit}' has integer dtype, expected floats`, { file: source });
      values.set(s.name, s.linear ? tf.tensor2d(transpose2d(t), [s.hfShape[1], s.hfShape[0]]) : tf.tensor(t.data, t.shape));
    }
    if (poolerMissing) {
      for (const s of bertParamSpecs(config).filter((p) => p.pooler)) { // all or none
        values.get(s.name)?.dispose();
        values.delete(s.name);
      }
      notices.push(`${source}: no pooler (bert.pooler.dense.*) in this checkpoint; initialised it freshly (normal, std ${config.initializer_range}), as transformers does: heads that read the pooled [CLS] start untrained`);
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
  // read by a pickle interpreter that only rebuilds tensors (@biore/runtime torch.ts); nothing is executed
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

function report(notices: string[], o: LoadBertOptions): void {
  for (const n of notices) (o.onNotice ?? ((l: string) => process.stderr.write(`${l}\n`)))(n);
}

/**
 * Loads a Hugging Face BERT folder — `config.json`, the WordPiece vocabulary in `vocab.txt` or else in
 * `tokenizer.json` (as transformers 5 writes it), `model.safetensors` or else a `pytorch_model.bin`
 * (optional `tokenizer_config.json`) — with one call.
 */
export function loadBert(dir: string, o: LoadBertOptions = {}): LoadedBert {
  const { config, tokConfig } = readConfigs(dir);
  let vocabPath = join(dir, 'vocab.txt');
  let vocab: string[];
  let fromJson: ReturnType<typeof readTokenizerJson> | undefined;
  if (existsSync(vocabPath) || !existsSync(join(dir, 'tokenizer.json'))) {
    vocab = readVocabFile(vocabPath);
  } else {
    vocabPath = join(dir, 'tokenizer.json');
    fromJson = readTokenizerJson(vocabPath);
    vocab = fromJson.vocab;
  }
  const { tensors, weightsPath } = readWeights(dir);
  const rows = embeddingRows(tensors);
  if (rows !== undefined && (vocab.length > rows || (vocab.length < rows && !o.allowExtraEmbeddingRows))) {
    throw new UserError(`${fromJson ? 'tokenizer.json' : 'vocab.txt'} has ${vocab.length} tokens but the word embeddings have ${rows} rows (config vocab_size ${config.vocab_size})`, { file: vocabPath });
  }
  // tokenizer.json's normalizer is what the fast tokenizer applies; else tokenizer_config.json, config.json, the vocabulary
  const doLowerCase = o.tokenizer?.doLowerCase ?? fromJson?.doLowerCase ??
    (typeof tokConfig.do_lower_case === 'boolean' ? tokConfig.do_lower_case : config.do_lower_case ?? inferLowerCase(vocab));
  const fromJsonOpts: WordPieceOptions = fromJson
    ? { unkToken: fromJson.unkToken, maxInputCharsPerWord: fromJson.maxInputCharsPerWord, stripAccents: fromJson.stripAccents, tokenizeChineseChars: fromJson.tokenizeChineseChars }
    : {};
  const tokenizer = new WordPieceTokenizer(vocab, { source: vocabPath, ...fromJsonOpts, ...o.tokenizer, doLowerCase });
  const notices: string[] = [];
  const model = bertFromTensors(config, tensors, weightsPath, o.withMlmHead ?? false, 1, notices);
  report(notices, o);
  return { config, model, tokenizer, doLowerCase, dir, notices };
}

export interface LoadedAnyBert extends Omit<LoadedBert, 'tokenizer'> {
  tokenizer: SubwordTokenizer;
}

/**
 * Like loadBert, for folders with either tokenizer: WordPiece (`vocab.txt` or `tokenizer.json`), or else a
 * SentencePiece `.model` (spiece.model, sentencepiece.bpe.model, …) read through sentencepiece-js, locally.
 */
export async function loadBertAny(dir: string, o: LoadBertOptions = {}): Promise<LoadedAnyBert> {
  if (!existsSync(dir) || existsSync(join(dir, 'vocab.txt'))) return loadBert(dir, o);
  const spm = readdirSync(dir).filter((f) => f.endsWith('.model')).sort();
  if (existsSync(join(dir, 'tokenizer.json')) && spm.length === 0) return loadBert(dir, o);
  if (spm.length === 0) throw new UserError('no tokenizer: neither vocab.txt, tokenizer.json nor a SentencePiece .model', { file: dir });
  if (o.tokenizer?.markers && Object.keys(o.tokenizer.markers).length) {
    throw new UserError('entity markers mapped to [unused] tokens need a WordPiece vocab.txt; this BERT ships a SentencePiece model', { file: dir });
  }
  const { config, tokConfig } = readConfigs(dir);
  const doLowerCase = o.tokenizer?.doLowerCase ?? (typeof tokConfig.do_lower_case === 'boolean' ? tokConfig.do_lower_case : config.do_lower_case ?? false);
  const tokenizer = await SentencePieceTokenizer.load(join(dir, spm[0]), { doLowerCase });
  const { tensors, weightsPath } = readWeights(dir);
  const notices: string[] = [];
  const model = bertFromTensors(config, tensors, weightsPath, o.withMlmHead ?? false, 1, notices);
  report(notices, o);
  return { config, model, tokenizer, doLowerCase, dir, notices };
}

export interface SaveBertOptions {
  /**
   * 'vocab.txt' (default): config.json with do_lower_case, vocab.txt, tokenizer_config.json. 'tokenizer.json': the
   * folder transformers 5 writes — tokenizer.json (vocabulary and normalizer) and a tokenizer_config.json without
   * do_lower_case, no vocab.txt, config.json without do_lower_case.
   */
  tokenizerFile?: 'vocab.txt' | 'tokenizer.json';
  /** false: leave the pooler out, as a BertForMaskedLM checkpoint does */
  pooler?: boolean;
}

/** Writes a model as a HF BERT folder (config.json, vocab.txt or tokenizer.json, tokenizer_config.json, model.safetensors), atomically. */
export function saveBert(dir: string, model: BertModel, vocab: readonly string[], doLowerCase: boolean, extraFiles: Record<string, string | Uint8Array> = {}, o: SaveBertOptions = {}): void {
  const tensors = bertToTensors(model);
  if (o.pooler === false) for (const k of Object.keys(tensors)) if (k.startsWith('bert.pooler.')) delete tensors[k];
  const json = o.tokenizerFile === 'tokenizer.json';
  writeDirAtomic(dir, (tmp) => {
    const { do_lower_case: _, ...configJson } = bertConfigJson(model.config);
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(json ? configJson : { ...configJson, do_lower_case: doLowerCase }, null, 2) + '\n');
    if (json) {
      writeFileSync(join(tmp, 'tokenizer.json'), tokenizerJson(vocab, { doLowerCase }));
      writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', model_max_length: model.config.max_position_embeddings }, null, 2) + '\n');
    } else {
      writeFileSync(join(tmp, 'vocab.txt'), vocab.join('\n') + '\n');
      writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: doLowerCase, tokenizer_class: 'BertTokenizer' }, null, 2) + '\n');
    }
    writeFileSync(join(tmp, 'model.safetensors'), encodeSafetensors(tensors, { format: 'pt' }));
    for (const [n, c] of Object.entries(extraFiles)) writeFileSync(join(tmp, n), c);
  });
}
