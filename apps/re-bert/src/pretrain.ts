// nx run re-bert:pretrain — masked-LM pre-training of a small BERT from scratch, with a WordPiece vocabulary
// learnt from the same corpus; writes a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors).
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { artifactDir, encodeSafetensors, JsonlWriter, loadSafetensors, numFlag, parseFlags, Progress, readJson, Rng, runCli, startBackend, UserError } from '@biore/runtime';
import { WordPieceTokenizer } from '@biore/text';
import { BertModel, MlmPretrainer, corpusVocabulary, loadBert, maskSequences, mlmLoss, packSequences, parseBertConfig, saveBert } from '@biore/bert';
import { corpusLines } from './common.ts';

const STATE = 'trainer_state.json';
const OPT = 'optimizer.safetensors';

runCli(async () => {
  const { values: f } = parseFlags({
    corpus: { type: 'string' }, out: { type: 'string' }, 'max-lines': { type: 'string' },
    'vocab-size': { type: 'string' }, cased: { type: 'boolean', default: false },
    hidden: { type: 'string' }, layers: { type: 'string' }, heads: { type: 'string' }, intermediate: { type: 'string' },
    'seq-len': { type: 'string' }, 'max-position': { type: 'string' },
    steps: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, warmup: { type: 'string' },
    seed: { type: 'string' }, 'checkpoint-every': { type: 'string' }, 'max-time': { type: 'string' }, resume: { type: 'boolean', default: false },
    backend: { type: 'string' }, data: { type: 'string' },
  });
  const report = await startBackend(f.backend);
  const out = f.out ?? artifactDir('bert');
  const seed = numFlag(f.seed, 'seed', 42);
  const steps = numFlag(f.steps, 'steps', 2000);
  const batchSize = numFlag(f.batch, 'batch', 16);
  const seqLen = numFlag(f['seq-len'], 'seq-len', 128);
  const doLowerCase = !f.cased;
  const { lines, source } = corpusLines(f.corpus, f.data, numFlag(f['max-lines'], 'max-lines', 0));
  process.stderr.write(`corpus: ${source}: ${lines.length} lines\n`);

  let model: BertModel, vocab: string[], trainer: MlmPretrainer;
  let rngState: number[] | undefined;
  const resuming = f.resume && existsSync(join(out, STATE));
  const total = { lr: numFlag(f.lr, 'lr', 5e-4), totalSteps: steps, warmupSteps: Math.round(numFlag(f.warmup, 'warmup', 0.1) * steps) };
  if (resuming) {
    const loaded = loadBert(out, { withMlmHead: true });
    if (!loaded.model.hasMlmHead) throw new UserError('cannot resume: the folder has no masked-LM head', { file: out });
    model = loaded.model;
    vocab = [...loaded.tokenizer.vocab];
    const st = readJson<{ step: number; rng: number[]; optimizer: Record<string, unknown>; steps: number; seed: number }>(join(out, STATE), STATE);
    if (st.seed !== seed) throw new UserError(`checkpoint was pre-trained with seed ${st.seed}, not ${seed}`, { file: join(out, STATE) });
    trainer = new MlmPretrainer(model, total);
    trainer.setState({ json: st.optimizer, tensors: loadSafetensors(join(out, OPT)).tensors });
    rngState = st.rng;
    process.stderr.write(`resuming at step ${trainer.step}\n`);
  } else {
    vocab = corpusVocabulary(lines, { vocabSize: numFlag(f['vocab-size'], 'vocab-size', 8000), doLowerCase });
    const cfg = parseBertConfig({
      vocab_size: vocab.length, hidden_size: numFlag(f.hidden, 'hidden', 128), num_hidden_layers: numFlag(f.layers, 'layers', 2),
      num_attention_heads: numFlag(f.heads, 'heads', 2), intermediate_size: numFlag(f.intermediate, 'intermediate', 512),
      max_position_embeddings: Math.max(seqLen, numFlag(f['max-position'], 'max-position', 128)), do_lower_case: doLowerCase,
    }, '--flags');
    model = new BertModel(cfg, { withMlmHead: true, seed });
    trainer = new MlmPretrainer(model, total);
  }
  const tokenizer = new WordPieceTokenizer(vocab, { doLowerCase });
  const seqs = packSequences(lines, tokenizer, seqLen);
  if (seqs.length < 2) throw new UserError(`the corpus gives only ${seqs.length} sequences of ${seqLen} pieces; give more text or a smaller --seq-len`);
  // 2% of the sequences (at least one) held out to report the masked-LM loss
  const order = new Rng(seed).shuffle(seqs.map((_, i) => i));
  const nHeld = Math.max(1, Math.round(seqs.length * 0.02));
  const held = order.slice(0, nHeld).map((i) => seqs[i]).slice(0, 64);
  const trainIdx = order.slice(nHeld);
  const heldBatch = maskSequences(held, tokenizer, new Rng(seed + 1));
  const heldLoss = () => tf.tidy(() => mlmLoss(model, heldBatch, false).dataSync()[0]);
  const params = model.variables().reduce((s, v) => s + v.size, 0);
  process.stderr.write(`model: hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers, ${model.config.num_attention_heads} heads, vocab ${vocab.length}, ${params} parameters; ${trainIdx.length} training sequences of ${seqLen} pieces -> ${out}\n`);

  const rng = new Rng(seed + 2);
  if (rngState) rng.setState(rngState);
  const save = () => {
    const st = trainer.getState();
    saveBert(out, model, vocab, doLowerCase, {
      [STATE]: JSON.stringify({ step: trainer.step, steps, seed, rng: rng.getState(), optimizer: st.json }) + '\n',
      [OPT]: encodeSafetensors(st.tensors),
    });
  };
  const metrics = new JsonlWriter(`${out}-log/metrics.jsonl`);
  const every = numFlag(f['checkpoint-every'], 'checkpoint-every', 200);
  const maxTime = numFlag(f['max-time'], 'max-time', 0);
  const startLoss = heldLoss();
  const startStep = trainer.step;
  const progress = new Progress('pretrain', steps, 'steps', undefined, trainer.step);
  const t0 = performance.now();
  let stop = false;
  process.once('SIGINT', () => { stop = true; });
  let lossAvg = 0;
  while (trainer.step < steps) {
    // sequences drawn by a seeded stream (its state is checkpointed), so a resumed run continues identically
    const pick = Array.from({ length: Math.min(batchSize, trainIdx.length) }, () => seqs[trainIdx[rng.int(trainIdx.length)]]);
    const loss = trainer.train(maskSequences(pick, tokenizer, rng), rng);
    if (!Number.isFinite(loss)) throw new Error(`pre-training diverged at step ${trainer.step}: loss ${loss}`);
    lossAvg = trainer.step === 1 ? loss : 0.98 * lossAvg + 0.02 * loss;
    progress.tick(1, `loss ${lossAvg.toFixed(3)} lr ${trainer.learningRate().toExponential(2)}`);
    if (trainer.step % 50 === 0) metrics.write({ step: trainer.step, loss: lossAvg });
    const timeUp = maxTime > 0 && (performance.now() - t0) / 1000 > maxTime;
    if (stop || timeUp || trainer.step % every === 0) {
      save();
      if (stop || timeUp) { process.stderr.write(`\nstopped at step ${trainer.step} (${stop ? 'signal' : 'max-time'}); checkpoint in ${out}; rerun with --resume\n`); break; }
    }
  }
  progress.end();
  save();
  const seconds = (performance.now() - t0) / 1000;
  const summary = {
    out, backend: report.backend, steps: trainer.step, seconds: Math.round(seconds), secondsPerStep: Number((seconds / Math.max(1, trainer.step - startStep)).toFixed(3)),
    heldOutSequences: held.length, heldOutMlmLossStart: startLoss, heldOutMlmLoss: heldLoss(), parameters: params, vocabSize: vocab.length,
    hidden: model.config.hidden_size, layers: model.config.num_hidden_layers, seqLen, batch: batchSize,
  };
  console.log(JSON.stringify(summary));
  trainer.dispose();
  model.dispose();
});
