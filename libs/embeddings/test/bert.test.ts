import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@biore/runtime';
import { BertModel, parseBertConfig, saveBert } from '@biore/bert';
import { loadEmbedder, BertEmbedder } from '../src/index.ts';

await initBackend(process.env.BIORE_BACKEND ?? 'auto');

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'p', '##53', 'bind', '##s', 'the', 'il', '-', '6', 'gene', '.'];
function tinyBertDir(): string {
  const cfg = parseBertConfig({ vocab_size: VOCAB.length, hidden_size: 8, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16 });
  const m = new BertModel(cfg, { seed: 2 });
  const dir = join(mkdtempSync(join(tmpdir(), 'bert-emb-')), 'bert');
  saveBert(dir, m, VOCAB, true);
  m.dispose();
  return dir;
}

test('BERT word vectors are the mean (or first) of each word\'s pieces, zero past the sentence, independent of the batch', async () => {
  const dir = tinyBertDir();
  const emb = (await loadEmbedder({ type: 'bert', path: dir })) as BertEmbedder;
  const first = (await loadEmbedder({ type: 'bert', path: dir, pooling: 'first', layers: [1, 2] })) as BertEmbedder;
  assert.equal(emb.embeddingLength, 8);
  const s1 = ['p53', 'binds', 'IL-6'], s2 = ['the', 'gene'];
  const both = emb.embed([s1, s2]).arraySync();
  const alone = emb.embed([s2]).arraySync();
  // pieces of s1: [CLS] p ##53 bind ##s il - 6 [SEP]
  const h = emb.model.forward({ inputIds: tf.tensor2d([[2, 5, 6, 7, 8, 10, 11, 12, 3]], undefined, 'int32'), attentionMask: tf.ones([1, 9]) as tf.Tensor2D });
  const last = h.lastHiddenState.arraySync()[0];
  const hs1 = h.hiddenStates[1].arraySync()[0];
  for (let k = 0; k < 8; k++) {
    assert.ok(Math.abs(both[0][0][k] - (last[1][k] + last[2][k]) / 2) < 1e-5, 'p53 = mean(p, ##53)');
    assert.ok(Math.abs(both[0][2][k] - (last[5][k] + last[6][k] + last[7][k]) / 3) < 1e-5, 'IL-6 = mean(il, -, 6)');
    assert.equal(both[1][2][k], 0, 'padding word is zero');
    assert.ok(Math.abs(both[1][1][k] - alone[0][1][k]) < 1e-5, 'batch independence');
  }
  const f = first.embed([s1]).arraySync();
  for (let k = 0; k < 8; k++) assert.ok(Math.abs(f[0][1][k] - (last[3][k] + hs1[3][k]) / 2) < 1e-5, "'first' pooling over layers 1 and 2");
  assert.deepEqual(first.describe(), { type: 'bert', path: dir, layers: [1, 2], pooling: 'first', maxLength: 16 });
  assert.deepEqual(emb.trainableVariables(), []);
  tf.dispose([h.lastHiddenState, h.pooled, ...h.hiddenStates]);
  emb.dispose(); first.dispose();
  await assert.rejects(async () => loadEmbedder({ type: 'bert' }), /needs 'path'/);
});
