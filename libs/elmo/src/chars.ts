/**
 * Tokens as character ids, exactly as bilm-tf's UnicodeCharsVocabulary: a token is its UTF-8 bytes
 * (0–255) between begin-of-word 258 and end-of-word 259, padded with 260 to `maxChars`; the sentence
 * markers are the one-"character" words 256 (`<S>`) and 257 (`</S>`).
 *
 * Ids returned here carry allennlp's (and bilm-tf's Batcher's) +1 offset, so 0 means "no token" (padding
 * past a sentence's end) and the char embedding has a zero row 0 in front of the 261 trained rows.
 *
 * Tokens longer than the limit: the UTF-8 bytes are cut to `maxChars - 2` (48 for the usual 50) and
 * still closed by end-of-word, as bilm-tf does; a cut may split a multi-byte character, as it does there.
 */
export const BOS_CHAR = 256;
export const EOS_CHAR = 257;
export const BOW_CHAR = 258;
export const EOW_CHAR = 259;
export const PAD_CHAR = 260;
export const BOS_TOKEN = '<S>';
export const EOS_TOKEN = '</S>';
export const UNK_TOKEN = '<UNK>';

const encoder = new TextEncoder();

/** The +1-offset character ids of one token, written into `out` at `offset` (maxChars entries). */
export function writeTokenCharIds(token: string, maxChars: number, out: Int32Array, offset = 0): void {
  out.fill(PAD_CHAR + 1, offset, offset + maxChars);
  out[offset] = BOW_CHAR + 1;
  if (token === BOS_TOKEN || token === EOS_TOKEN) {
    out[offset + 1] = (token === BOS_TOKEN ? BOS_CHAR : EOS_CHAR) + 1;
    out[offset + 2] = EOW_CHAR + 1;
    return;
  }
  const bytes = encoder.encode(token);
  const n = Math.min(bytes.length, maxChars - 2);
  for (let k = 0; k < n; k++) out[offset + 1 + k] = bytes[k] + 1;
  out[offset + 1 + n] = EOW_CHAR + 1;
}

export function tokenCharIds(token: string, maxChars = 50): Int32Array {
  const out = new Int32Array(maxChars);
  writeTokenCharIds(token, maxChars, out);
  return out;
}

/** True when a token's UTF-8 form is longer than the characters a token may hold (it will be cut). */
export function isTruncated(token: string, maxChars = 50): boolean {
  return encoder.encode(token).length > maxChars - 2;
}

/**
 * Character ids [batch, maxLen, maxChars] for tokenized sequences (already holding any `<S>`/`</S>`),
 * right-padded with all-zero tokens; `maxLen` defaults to the longest sequence.
 */
export function batchCharIds(seqs: readonly (readonly string[])[], maxChars = 50, maxLen?: number): { ids: Int32Array; shape: [number, number, number] } {
  const T = maxLen ?? seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const ids = new Int32Array(seqs.length * T * maxChars);
  seqs.forEach((s, b) => {
    for (let t = 0; t < Math.min(s.length, T); t++) writeTokenCharIds(s[t], maxChars, ids, (b * T + t) * maxChars);
  });
  return { ids, shape: [seqs.length, T, maxChars] };
}

/**
 * A batch as its distinct token types: `typeIds` [U, maxChars] holds each distinct token's character ids once
 * (type 0 is the all-zero padding token), `index` [B·T] the type at each position. The char CNN then runs
 * once per type rather than once per position (a batch of prose has about half as many types as tokens).
 */
export interface TokenBatch {
  typeIds: Int32Array;
  types: number;
  index: Int32Array;
  /** [B, T] */
  shape: [number, number];
  lengths: number[];
}

export function tokenBatch(seqs: readonly (readonly string[])[], maxChars = 50, maxLen?: number): TokenBatch {
  const T = maxLen ?? seqs.reduce((m, s) => Math.max(m, s.length), 0);
  const typeOf = new Map<string, number>();
  const list: string[] = [];
  const index = new Int32Array(seqs.length * T);
  seqs.forEach((s, b) => {
    for (let t = 0; t < Math.min(s.length, T); t++) {
      let k = typeOf.get(s[t]);
      if (k === undefined) { k = list.length + 1; typeOf.set(s[t], k); list.push(s[t]); }
      index[b * T + t] = k;
    }
  });
  const typeIds = new Int32Array((list.length + 1) * maxChars);
  list.forEach((w, i) => writeTokenCharIds(w, maxChars, typeIds, (i + 1) * maxChars));
  return { typeIds, types: list.length + 1, index, shape: [seqs.length, T], lengths: seqs.map((s) => Math.min(s.length, T)) };
}
