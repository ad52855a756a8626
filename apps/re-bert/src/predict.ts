// nx run re-bert:predict — label, probabilities and each word's attention weight (attention heads) for JSONL sentences.
import { readFileSync, existsSync } from 'node:fs';
import { openAtomicWriter, parseFlags, runCli, UserError } from '@biore/runtime';
import { instanceFromRecord, loadREModel, predict } from '@biore/re-model';
import { startBackend } from './common.ts';

runCli(async () => {
  const { values: f } = parseFlags({ model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } });
  if (!f.model || !f.input) throw new UserError('usage: re-bert:predict --model DIR --input sentences.jsonl [--out predictions.jsonl]');
  if (!existsSync(f.input)) throw new UserError('input file not found', { file: f.input });
  await startBackend(f.backend);
  const model = await loadREModel(f.model);
  const lines = readFileSync(f.input, 'utf8').split('\n');
  const instances = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let rec;
    try { rec = JSON.parse(lines[i]); } catch (e) { throw new UserError(`malformed JSON (${(e as Error).message})`, { file: f.input, record: `line ${i + 1}` }); }
    instances.push(instanceFromRecord(rec, f.input, i + 1));
  }
  const preds = predict(model, instances, 32, { attention: true });
  const w = f.out ? openAtomicWriter(f.out) : undefined;
  const write = (s: string) => (w ? w.write(s) : Promise.resolve(void process.stdout.write(s)));
  try {
    for (let i = 0; i < preds.length; i++) {
      const p = preds[i];
      await write(JSON.stringify({
        id: instances[i].id, label: p.label,
        probabilities: Object.fromEntries(model.labels.map((l, k) => [l, Number(p.probabilities[k].toFixed(6))])),
        ...(p.attention ? { attention: p.words.map((word, k) => ({ word, weight: Number((p.attention![k] ?? 0).toFixed(6)) })) } : { words: p.words }),
      }) + '\n');
    }
    await w?.commit();
  } catch (e) {
    w?.abort();
    throw e;
  }
  model.dispose();
});
