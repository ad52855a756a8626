// nx run re-bert:pretrain — masked-LM pre-training of a small BERT from scratch, with a WordPiece vocabulary
// learnt from the same corpus; writes a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors).
import { rmSync } from 'node:fs';
import { COMMON_FLAGS, CheckpointStore, JsonlWriter, Rng, UserError, artifactDir, defineCommand, loopStateOf, pick, runCli, startBackend } from '@biore/runtime';
import { WordPieceTokenizer } from '@biore/text';
import { BertModel, MlmPretrainer, corpusVocabulary, heldOutLoss, maskSequences, packSequences, parseBertConfig, pretrainMlm, restoreMlm, saveBert } from '@biore/bert';
import { corpusLines } from './common.ts';

const command = defineCommand({
  name: 're-bert:pretrain',
  summary: 'Pre-train a small BERT from scratch (masked LM, WordPiece vocabulary learnt from the corpus) and write a Hugging Face BERT folder.',
  examples: ['nx run re-bert:pretrain', 'nx run re-bert:pretrain --hidden 256 --layers 4 --heads 4 --max-steps 20000 --max-time 3300 --resume'],
  flags: {
    ...pick(COMMON_FLAGS, 'corpus', 'backend', 'data'),
    out: { ...COMMON_FLAGS.out, description: 'BERT folder (default artifacts/bert); checkpoints in <out>.run/checkpoint, metrics in <out>.run/metrics.jsonl' },
    'limit-lines': { type: 'int', min: 1, deprecated: ['max-lines'], description: 'read only the first N corpus lines' },
    'vocab-size': { type: 'int', min: 30, default: 8000, description: 'WordPiece vocabulary size' },
    cased: { type: 'boolean', description: 'keep case (default: lower-cased, as uncased BERT)' },
    hidden: { ...COMMON_FLAGS.hidden, default: 128 },
    layers: { ...COMMON_FLAGS.layers, default: 2 },
    heads: { type: 'int', min: 1, default: 2, description: 'attention heads (must divide --hidden)' },
    intermediate: { type: 'int', min: 1, default: 512, description: 'feed-forward size' },
    'seq-len': { type: 'int', min: 8, default: 128, description: 'word pieces per training sequence' },
    'max-position': { type: 'int', min: 8, default: 128, description: 'position embeddings (at least --seq-len)' },
    'max-steps': { ...COMMON_FLAGS['max-steps'], min: 1, default: 2000, deprecated: ['steps'], description: 'optimizer steps of the whole run (linear warm-up and decay over them)' },
    batch: { ...COMMON_FLAGS.batch, default: 16 },
    lr: { ...COMMON_FLAGS.lr, default: 5e-4, description: 'peak AdamW learning rate' },
    warmup: { type: 'number', min: 0, max: 1, exclusiveMax: true, default: 0.1, description: 'fraction of the steps with linear warm-up' },
    seed: COMMON_FLAGS.seed,
    'checkpoint-every': COMMON_FLAGS['checkpoint-every'],
    'max-time': COMMON_FLAGS['max-time'],
    resume: { ...COMMON_FLAGS.resume, description: 'continue from <out>.run/checkpoint (same seed and corpus)' },
    force: { type: 'boolean', description: 'discard an existing checkpoint and start over' },
  },
});

runCli(async () => {
  const f = command.parse();
  if (f.hidden % f.heads !== 0) throw new UserError(`--heads must divide --hidden, got ${f.heads} heads for hidden ${f.hidden}`);
  const report = await startBackend(f.backend);
  const out = f.out ?? artifactDir('bert');
  const store = new CheckpointStore(`${out}.run/checkpoint`);
  if (f.force) rmSync(`${out}.run`, { recursive: true, force: true });
  const { lines, source } = corpusLines(f.corpus, f.data, f['limit-lines'] ?? 0);
  process.stderr.write(`corpus: ${source}: ${lines.length} lines\n`);
  const doLowerCase = !f.cased;
  const total = { lr: f.lr, totalSteps: f['max-steps'], warmupSteps: Math.round(f.warmup * f['max-steps']) };
  const ck = f.resume ? store.load() : undefined;
  if (f.resume && !ck) throw new UserError('--resume: no checkpoint to resume from (start without --resume)', { file: store.linkPath });
  if (!f.resume && store.latest()) throw new UserError('holds a checkpoint of an earlier run: --resume to continue it, --force to start over', { file: store.linkPath });
  let model: BertModel, vocab: string[];
  const rng = new Rng(f.seed + 2);
  let trainer: MlmPretrainer;
  if (ck) {
    const r = restoreMlm(ck, f.seed);
    if (r.doLowerCase !== doLowerCase) throw new UserError(`the checkpoint is ${r.doLowerCase ? 'uncased' : 'cased'}; resume with the same --cased setting`, { file: ck.dir });
    ({ model, vocab } = r);
    trainer = new MlmPretrainer(model, total);
    trainer.setState(r.optimizer);
    rng.setState(r.rng);
    process.stderr.write(`resuming at step ${trainer.step} from ${ck.dir}\n`);
  } else {
    vocab = corpusVocabulary(lines, { vocabSize: f['vocab-size'], doLowerCase });
    const cfg = parseBertConfig({
      vocab_size: vocab.length, hidden_size: f.hidden, num_hidden_layers: f.layers, num_attention_heads: f.heads, intermediate_size: f.intermediate,
      max_position_embeddings: Math.max(f['seq-len'], f['max-position']), do_lower_case: doLowerCase,
    }, '--flags');
    model = new BertModel(cfg, { withMlmHead: true, seed: f.seed });
    trainer = new MlmPretrainer(model, total);
  }
  const tokenizer = new WordPieceTokenizer(vocab, { doLowerCase });
  const seqs = packSequences(lines, tokenizer, f['seq-len']);
  if (seqs.length < 2) throw new UserError(`the corpus gives only ${seqs.length} sequences of ${f['seq-len']} pieces; give more text or a smaller --seq-len`);
  // 2% of the sequences (at least one, at most 64) held out to report the masked-LM loss
  const order = new Rng(f.seed).shuffle(seqs.map((_, i) => i));
  const nHeld = Math.max(1, Math.round(seqs.length * 0.02));
  const heldOut = maskSequences(order.slice(0, nHeld).map((i) => seqs[i]).slice(0, 64), tokenizer, new Rng(f.seed + 1));
  const sequences = order.slice(nHeld).map((i) => seqs[i]);
  const params = model.variables().reduce((s, v) => s + v.size, 0);
  process.stderr.write(`model: hidden ${model.config.hidden_size}, ${model.config.num_hidden_layers} layers, ${model.config.num_attention_heads} heads, vocab ${vocab.length}, ${params} parameters; ${sequences.length} training sequences of ${f['seq-len']} pieces -> ${out}\n`);
  const run = { model, trainer, tokenizer, vocab, doLowerCase, sequences, heldOut, batchSize: f.batch, seed: f.seed, rng };
  const startLoss = heldOutLoss(run);
  const startStep = trainer.step;
  const t0 = performance.now();
  const r = await pretrainMlm(run, { checkpoints: store, checkpointEvery: f['checkpoint-every'], maxTimeSec: f['max-time'], metrics: new JsonlWriter(`${out}.run/metrics.jsonl`), resumed: loopStateOf(ck?.state) });
  saveBert(out, model, vocab, doLowerCase);
  if (r.stopped === 'signal') {
    process.stderr.write(`stopped by ${r.signal} at step ${trainer.step}; checkpoint in ${store.linkPath}; continue with --resume\n`);
    process.exit(r.signal === 'SIGINT' ? 130 : 143);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    out, backend: report.backend, steps: trainer.step, stopped: r.stopped === 'finished' ? undefined : r.stopped, seconds: Math.round(seconds),
    secondsPerStep: Number((seconds / Math.max(1, trainer.step - startStep)).toFixed(3)), heldOutSequences: heldOut.B, heldOutMlmLossStart: startLoss,
    heldOutMlmLoss: heldOutLoss(run), parameters: params, vocabSize: vocab.length, hidden: model.config.hidden_size, layers: model.config.num_hidden_layers, seqLen: f['seq-len'], batch: f.batch,
  }));
  trainer.dispose();
  model.dispose();
});
