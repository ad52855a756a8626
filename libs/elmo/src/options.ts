import { UserError } from '@biore/runtime';

/**
 * The hyper-parameters of a biLM in bilm-tf's `options.json` layout (the file published beside every
 * `weights.hdf5`). Training-only keys (`batch_size`, `n_epochs`, …) are optional at load time.
 */
export interface BilmOptions {
  lstm: {
    /** cell size of each LSTM */
    dim: number;
    /** size of the projected hidden state (and of the token representation) */
    projection_dim: number;
    n_layers: number;
    cell_clip?: number | null;
    proj_clip?: number | null;
    use_skip_connections: boolean;
  };
  char_cnn: {
    activation: 'relu' | 'tanh';
    /** [width, number of filters] pairs */
    filters: [number, number][];
    n_highway: number;
    embedding: { dim: number };
    /** 261 during bilm-tf training, 262 once the padding row is added (published files say 262) */
    n_characters: number;
    max_characters_per_token: number;
  };
  bidirectional?: boolean;
  dropout?: number;
  n_tokens_vocab?: number;
  unroll_steps?: number;
  batch_size?: number;
  n_train_tokens?: number;
  n_epochs?: number;
  n_negative_samples_batch?: number;
  all_clip_norm_val?: number;
  [extra: string]: unknown;
}

function fail(file: string, key: string, expected: string, got: unknown): never {
  throw new UserError(`options '${key}' must be ${expected}, got ${JSON.stringify(got)}`, { file });
}

function posInt(file: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(file, key, 'a positive integer', v);
  return v;
}

function optClip(file: string, key: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v > 0)) fail(file, key, 'a positive number or null', v);
  return v;
}

/**
 * Checks a parsed options.json and returns it typed; every missing or malformed key is a UserError
 * naming the file and the key.
 */
export function parseBilmOptions(raw: unknown, file = 'options.json'): BilmOptions {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(file, '(root)', 'an object', raw);
  const o = raw as Record<string, unknown>;
  const lstm = o.lstm as Record<string, unknown> | undefined;
  const cnn = o.char_cnn as Record<string, unknown> | undefined;
  if (!lstm || typeof lstm !== 'object') fail(file, 'lstm', 'an object', lstm);
  if (!cnn || typeof cnn !== 'object') fail(file, 'char_cnn', 'an object', cnn);
  const filters = cnn.filters;
  if (!Array.isArray(filters) || filters.length === 0) fail(file, 'char_cnn.filters', 'a non-empty list of [width, count] pairs', filters);
  filters.forEach((f, i) => {
    if (!Array.isArray(f) || f.length !== 2) fail(file, `char_cnn.filters[${i}]`, 'a [width, count] pair', f);
    posInt(file, `char_cnn.filters[${i}][0]`, f[0]);
    posInt(file, `char_cnn.filters[${i}][1]`, f[1]);
  });
  const activation = cnn.activation;
  if (activation !== 'relu' && activation !== 'tanh') fail(file, 'char_cnn.activation', "'relu' or 'tanh'", activation);
  const emb = cnn.embedding as Record<string, unknown> | undefined;
  if (!emb || typeof emb !== 'object') fail(file, 'char_cnn.embedding', 'an object with dim', emb);
  const maxChars = posInt(file, 'char_cnn.max_characters_per_token', cnn.max_characters_per_token);
  const maxWidth = Math.max(...(filters as [number, number][]).map((f) => f[0]));
  if (maxWidth > maxChars) fail(file, 'char_cnn.filters', `widths at most max_characters_per_token (${maxChars})`, maxWidth);
  if (maxChars < 3) fail(file, 'char_cnn.max_characters_per_token', 'at least 3 (begin, one character, end of word)', maxChars);
  const nChars = posInt(file, 'char_cnn.n_characters', cnn.n_characters);
  if (nChars !== 261 && nChars !== 262) fail(file, 'char_cnn.n_characters', '261 (bilm-tf training) or 262 (with the padding row)', nChars);
  const skip = lstm.use_skip_connections;
  if (typeof skip !== 'boolean') fail(file, 'lstm.use_skip_connections', 'true or false', skip);
  if (o.bidirectional === false) fail(file, 'bidirectional', 'true (ELMo is a bidirectional LM)', o.bidirectional);
  const out: BilmOptions = {
    ...o,
    lstm: {
      ...lstm,
      dim: posInt(file, 'lstm.dim', lstm.dim),
      projection_dim: posInt(file, 'lstm.projection_dim', lstm.projection_dim),
      n_layers: posInt(file, 'lstm.n_layers', lstm.n_layers),
      cell_clip: optClip(file, 'lstm.cell_clip', lstm.cell_clip),
      proj_clip: optClip(file, 'lstm.proj_clip', lstm.proj_clip),
      use_skip_connections: skip,
    },
    char_cnn: {
      ...cnn,
      activation,
      filters: (filters as [number, number][]).map((f) => [f[0], f[1]] as [number, number]),
      n_highway: typeof cnn.n_highway === 'number' && Number.isInteger(cnn.n_highway) && cnn.n_highway >= 0 ? cnn.n_highway : fail(file, 'char_cnn.n_highway', 'a non-negative integer', cnn.n_highway),
      embedding: { dim: posInt(file, 'char_cnn.embedding.dim', emb.dim) },
      n_characters: nChars,
      max_characters_per_token: maxChars,
    },
  };
  if (o.dropout !== undefined && (typeof o.dropout !== 'number' || o.dropout < 0 || o.dropout >= 1)) fail(file, 'dropout', 'a number in [0, 1)', o.dropout);
  return out;
}

/** Total number of character-CNN filters (the width of the highway layers). */
export function cnnWidth(o: BilmOptions): number {
  return o.char_cnn.filters.reduce((s, f) => s + f[1], 0);
}

/**
 * The small biLM `nx run elmo-lm:pretrain` trains by default: the shape of the published models
 * (char CNN, highway, projection, 2 LSTM layers with projection, clipping and a skip connection), scaled down
 * to finish on 2 CPU cores in a few minutes.
 */
export function smallBilmOptions(): BilmOptions {
  return {
    lstm: { dim: 256, projection_dim: 64, n_layers: 2, cell_clip: 3, proj_clip: 3, use_skip_connections: true },
    char_cnn: {
      activation: 'relu',
      filters: [[1, 16], [2, 16], [3, 32], [4, 32], [5, 32]],
      n_highway: 1,
      embedding: { dim: 16 },
      n_characters: 262,
      max_characters_per_token: 50,
    },
    bidirectional: true,
    dropout: 0.1,
    unroll_steps: 20,
    batch_size: 64,
    n_epochs: 1,
    n_negative_samples_batch: 1024,
    all_clip_norm_val: 10.0,
  };
}
