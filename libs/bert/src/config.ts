import { UserError } from '@biore/runtime';

/** The fields of a Hugging Face `BertConfig` that the encoder uses (names as in `config.json`). */
export interface BertConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: 'gelu' | 'gelu_new' | 'relu';
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  initializer_range: number;
  pad_token_id: number;
  /** tokenizer setting; HF keeps it in tokenizer_config.json, older exports in config.json */
  do_lower_case?: boolean;
}

export const BERT_DEFAULTS: BertConfig = {
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  initializer_range: 0.02,
  pad_token_id: 0,
};

/** Reads a `config.json` object into a BertConfig: HF defaults for absent fields, one UserError per bad field. */
export function parseBertConfig(json: Record<string, unknown>, source = 'config.json'): BertConfig {
  if (json === null || typeof json !== 'object') throw new UserError('expected a JSON object', { file: source });
  const c: Record<string, unknown> = { ...BERT_DEFAULTS };
  for (const k of Object.keys(BERT_DEFAULTS) as (keyof BertConfig)[]) if (json[k] !== undefined && json[k] !== null) c[k] = json[k];
  if (typeof json.do_lower_case === 'boolean') c.do_lower_case = json.do_lower_case;
  const ints: (keyof BertConfig)[] = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UserError(`'${k}' must be a positive integer, got ${JSON.stringify(v)}`, { file: source });
  }
  for (const k of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const v = c[k];
    if (typeof v !== 'number' || v < 0 || v >= 1) throw new UserError(`'${k}' must be in [0, 1), got ${JSON.stringify(v)}`, { file: source });
  }
  if (typeof c.layer_norm_eps !== 'number' || !(c.layer_norm_eps > 0)) throw new UserError(`'layer_norm_eps' must be positive`, { file: source });
  if (c.hidden_act !== 'gelu' && c.hidden_act !== 'gelu_new' && c.hidden_act !== 'relu') {
    throw new UserError(`'hidden_act' ${JSON.stringify(c.hidden_act)} is not supported: expected gelu, gelu_new or relu`, { file: source });
  }
  if ((c.hidden_size as number) % (c.num_attention_heads as number) !== 0) {
    throw new UserError(`hidden_size ${c.hidden_size} is not a multiple of num_attention_heads ${c.num_attention_heads}`, { file: source });
  }
  return c as unknown as BertConfig;
}

/** The config.json written for a BERT this project trains or saves (loadable by HF transformers). */
export function bertConfigJson(c: BertConfig): Record<string, unknown> {
  return { architectures: ['BertForMaskedLM'], model_type: 'bert', ...c };
}
