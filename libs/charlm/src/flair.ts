import { writeFileSync } from 'node:fs';
import { PickleWriter, PickledObject, UserError, isHostTensor, loadTorchFile, torchZip, type HostTensor, type TensorMap } from '@biore/runtime';
import { CharDictionary, UNK } from './dictionary.ts';
import { CharLanguageModel, charLMConfig, type CharLMConfig } from './model.ts';

/**
 * flair's character language models (`flair.models.LanguageModel`, the `.pt` files FlairEmbeddings loads):
 * `torch.save` of a dict with `dictionary` (a `flair.data.Dictionary` whose `item2idx` maps UTF-8 bytes of each
 * character to its id; newer files hold it in `tokenizer`, a CharacterTokenizer), `is_forward_lm`,
 * `hidden_size`, `nlayers`, `embedding_size`, `nout`, `dropout`, `document_delimiter` and `state_dict`
 * (`encoder.weight` [V, E]; `rnn.weight_ih_l{k}` [4H, in], `rnn.weight_hh_l{k}` [4H, H], `rnn.bias_ih_l{k}`,
 * `rnn.bias_hh_l{k}` [4H], gates i, f, g, o; optional `proj.weight` [nout, H] / `proj.bias`; `decoder.weight`
 * [V, out], `decoder.bias` [V]). Read without executing the pickle (@biore/runtime's torch reader).
 */

const FLAIR_CLASSES = ['flair.data.Dictionary', 'flair.models.language_model.CharacterTokenizer'];

export interface FlairLanguageModelFile {
  config: CharLMConfig;
  dictionary: CharDictionary;
  /** weights under CharLanguageModel's names, in its layout ([in, out] kernels, one LSTM bias) */
  tensors: TensorMap;
}

const field = (m: Map<unknown, unknown>, k: string) => m.get(k);
const decodeUtf8 = new TextDecoder('utf-8', { fatal: true });

function objectState(o: unknown): Map<unknown, unknown> | undefined {
  if (o instanceof PickledObject && o.state instanceof Map) return o.state;
  return undefined;
}

/** flair's Dictionary → ours: items by id; id 0 (flair's fallback for unknown characters) becomes <unk>. */
function readDictionary(raw: unknown, rows: number, path: string): CharDictionary {
  let state = objectState(raw);
  const tokenizerDict = state && state.get('dictionary'); // a CharacterTokenizer holds the Dictionary
  if (state && !state.has('item2idx') && tokenizerDict) state = objectState(tokenizerDict);
  if (!state) throw new UserError("no character dictionary: expected 'dictionary' to be a flair.data.Dictionary", { file: path });
  const item2idx = state.get('item2idx');
  if (!(item2idx instanceof Map)) throw new UserError("the flair Dictionary has no 'item2idx' mapping", { file: path });
  const items: (string | undefined)[] = new Array(rows);
  for (const [k, v] of item2idx) {
    const ch = k instanceof Uint8Array ? decodeUtf8.decode(k) : typeof k === 'string' ? k : undefined;
    if (ch === undefined || typeof v !== 'number' || !Number.isInteger(v)) throw new UserError(`the flair Dictionary maps ${String(k)} to ${String(v)}; expected bytes → integer id`, { file: path });
    if (v < 0 || v >= rows) throw new UserError(`the flair Dictionary gives ${JSON.stringify(ch)} id ${v}, but encoder.weight has ${rows} rows`, { file: path });
    if (items[v] !== undefined) throw new UserError(`the flair Dictionary gives id ${v} to two characters`, { file: path });
    items[v] = ch;
  }
  const missing = items.findIndex((c, i) => i > 0 && c === undefined);
  if (missing > 0) throw new UserError(`the flair Dictionary has no character for id ${missing} of ${rows}`, { file: path });
  // flair maps an unknown character to id 0, whatever item 0 is; ours does the same through <unk>
  const out = [UNK, ...items.slice(1).map((c) => c!)];
  const seen = new Set<string>();
  out.forEach((c, i) => { if (i > 0 && (c === UNK || seen.has(c))) out[i] = `\u0000unreachable:${i}`; seen.add(c); });
  return new CharDictionary(out);
}

function need(sd: Map<unknown, unknown>, name: string, shape: number[], path: string): HostTensor {
  const t = sd.get(name);
  if (!isHostTensor(t)) throw new UserError(`missing tensor 'state_dict.${name}'`, { file: path });
  if (t.dtype !== 'float32') throw new UserError(`tensor '${name}' is not floating point`, { file: path });
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new UserError(`tensor '${name}' has shape [${t.shape}], expected [${shape}] from the file's sizes`, { file: path });
  }
  return t;
}

function transpose(t: HostTensor): HostTensor {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { dtype: 'float32', shape: [c, r], data: out };
}

/** Reads a flair LM `.pt` file into our config, dictionary and weights. */
export function readFlairLanguageModel(path: string): FlairLanguageModelFile {
  const root = loadTorchFile(path, { classes: FLAIR_CLASSES });
  if (!(root instanceof Map) || !(root.get('state_dict') instanceof Map)) {
    throw new UserError("not a flair language model: expected a dict with 'state_dict', 'dictionary', 'is_forward_lm', …", { file: path });
  }
  const int = (k: string, min: number): number => {
    const v = field(root, k);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`'${k}' must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, { file: path });
    return v;
  };
  const isForwardLm = field(root, 'is_forward_lm');
  if (typeof isForwardLm !== 'boolean') throw new UserError("'is_forward_lm' must be True or False", { file: path });
  const recurrent = field(root, 'recurrent_type');
  if (recurrent !== undefined && String(recurrent).toLowerCase() !== 'lstm') throw new UserError(`recurrent_type ${JSON.stringify(recurrent)}: only LSTM language models load`, { file: path });
  const hiddenSize = int('hidden_size', 1), layers = int('nlayers', 1), embeddingSize = int('embedding_size', 1);
  const noutRaw = field(root, 'nout');
  const nout = noutRaw === null || noutRaw === undefined ? null : int('nout', 1);
  const dropoutRaw = field(root, 'dropout');
  const dropout = typeof dropoutRaw === 'number' && dropoutRaw >= 0 && dropoutRaw < 1 ? dropoutRaw : 0.1;
  const delim = field(root, 'document_delimiter');
  const sd = root.get('state_dict') as Map<unknown, unknown>;
  const enc = sd.get('encoder.weight');
  if (!isHostTensor(enc) || enc.shape.length !== 2) throw new UserError("missing tensor 'state_dict.encoder.weight' (2-D)", { file: path });
  const V = enc.shape[0];
  need(sd, 'encoder.weight', [V, embeddingSize], path);
  const dictionary = readDictionary(field(root, 'dictionary') ?? field(root, 'tokenizer'), V, path);
  const H = hiddenSize, out = nout ?? H;
  const tensors: TensorMap = { 'encoder/embeddings': enc };
  for (let l = 0; l < layers; l++) {
    const inSize = l === 0 ? embeddingSize : H;
    tensors[`rnn/${l}/kernel`] = transpose(need(sd, `rnn.weight_ih_l${l}`, [4 * H, inSize], path));
    tensors[`rnn/${l}/recurrent_kernel`] = transpose(need(sd, `rnn.weight_hh_l${l}`, [4 * H, H], path));
    const bi = need(sd, `rnn.bias_ih_l${l}`, [4 * H], path).data, bh = need(sd, `rnn.bias_hh_l${l}`, [4 * H], path).data;
    tensors[`rnn/${l}/bias`] = { dtype: 'float32', shape: [4 * H], data: Float32Array.from(bi, (b, k) => b + bh[k]) };
  }
  if (nout) {
    tensors['proj/kernel'] = transpose(need(sd, 'proj.weight', [nout, H], path));
    tensors['proj/bias'] = need(sd, 'proj.bias', [nout], path);
  }
  if (sd.has('decoder.weight') || field(root, 'has_decoder') !== false) {
    tensors['decoder/kernel'] = transpose(need(sd, 'decoder.weight', [V, out], path));
    tensors['decoder/bias'] = sd.has('decoder.bias') ? need(sd, 'decoder.bias', [V], path) : { dtype: 'float32', shape: [V], data: new Float32Array(V) };
  } else {
    // saved without a decoder (has_decoder False): embeddings never use it; generation would be meaningless
    tensors['decoder/kernel'] = { dtype: 'float32', shape: [out, V], data: new Float32Array(out * V) };
    tensors['decoder/bias'] = { dtype: 'float32', shape: [V], data: new Float32Array(V) };
  }
  const config = charLMConfig({
    isForwardLm, vocabSize: V, embeddingSize, hiddenSize, layers, nout, dropout,
    documentDelimiter: typeof delim === 'string' ? delim : '\n',
  });
  return { config, dictionary, tensors };
}

/** Loads a flair LM `.pt` file as a CharLanguageModel (the same object `CharLanguageModel.load` gives for our folders). */
export function loadFlairLanguageModel(path: string): CharLanguageModel {
  const f = readFlairLanguageModel(path);
  const m = new CharLanguageModel(f.config, f.dictionary);
  m.loadWeights(f.tensors, path);
  return m;
}

/** Whether a path names a flair `.pt` LM file (rather than one of our LM folders). */
export function isFlairLanguageModelPath(path: string): boolean {
  return /\.(pt|pth|bin)$/i.test(path);
}

/**
 * Writes a CharLanguageModel as flair's LM file (what LanguageModel.save writes: the dict, the Dictionary with
 * UTF-8 bytes, the state dict in PyTorch's layout with the LSTM bias in bias_ih and zeros in bias_hh), zipped as
 * torch ≥ 1.6 does, so flair users can load LMs trained here.
 */
export function saveFlairLanguageModel(path: string, m: CharLanguageModel): void {
  const c = m.config;
  const host = m.weightsToHost();
  const pt = (name: string) => transpose(host[name]);
  const sd: [string, HostTensor][] = [['encoder.weight', host['encoder/embeddings']]];
  for (let l = 0; l < c.layers; l++) {
    sd.push([`rnn.weight_ih_l${l}`, pt(`rnn/${l}/kernel`)], [`rnn.weight_hh_l${l}`, pt(`rnn/${l}/recurrent_kernel`)],
      [`rnn.bias_ih_l${l}`, host[`rnn/${l}/bias`]], [`rnn.bias_hh_l${l}`, { dtype: 'float32', shape: [4 * c.hiddenSize], data: new Float32Array(4 * c.hiddenSize) }]);
  }
  if (c.nout) sd.push(['proj.weight', pt('proj/kernel')], ['proj.bias', host['proj/bias']]);
  sd.push(['decoder.weight', pt('decoder/kernel')], ['decoder.bias', host['decoder/bias']]);
  const w = new PickleWriter().proto().emptyDict().mark();
  w.str('dictionary').global('flair.data', 'Dictionary').emptyTuple().newobj().emptyDict().mark();
  w.str('item2idx').emptyDict().mark();
  const utf8 = new TextEncoder();
  m.dictionary.items.forEach((ch, i) => { w.bytes(utf8.encode(ch)).int(i); });
  w.setitems().str('idx2item').emptyList().mark();
  for (const ch of m.dictionary.items) w.bytes(utf8.encode(ch));
  w.appends().str('add_unk').bool(true).str('multi_label').bool(false).setitems().build();
  w.str('is_forward_lm').bool(c.isForwardLm).str('hidden_size').int(c.hiddenSize).str('nlayers').int(c.layers)
    .str('embedding_size').int(c.embeddingSize).str('nout');
  if (c.nout) w.int(c.nout); else w.none();
  w.str('document_delimiter').str(c.documentDelimiter).str('dropout').float(c.dropout).str('recurrent_type').str('LSTM')
    .str('has_decoder').bool(true);
  w.str('state_dict').global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const [name, t] of sd) w.str(name).tensor(t);
  w.setitems().emptyDict().build(); // OrderedDict state: (empty) _metadata
  w.setitems().stop();
  writeFileSync(path, torchZip(w));
}
