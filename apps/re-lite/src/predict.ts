// nx run re-lite:predict — labels, probabilities and each word's attention weight for JSONL sentences.
import { parseFlags, runCli, startBackend, UserError } from '@biore/runtime';
import '@biore/embeddings';
import { loadREModel, readPredictionInput, writePredictions } from '@biore/re-model';

runCli(async () => {
  const { values: f } = parseFlags({ model: { type: 'string' }, input: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } });
  if (!f.model || !f.input) throw new UserError('usage: re-lite:predict --model DIR --input sentences.jsonl [--out predictions.jsonl]');
  const instances = readPredictionInput(f.input);
  await startBackend(f.backend);
  const model = await loadREModel(f.model);
  await writePredictions(model, instances, f.out);
  model.dispose();
});
