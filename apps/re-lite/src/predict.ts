// nx run re-lite:predict — labels, probabilities and each word's attention weight for JSONL sentences.
import { runCli } from '@biore/runtime';
import '@biore/embeddings';
import { predictCommand } from '@biore/re-model';

runCli(() => predictCommand('re-lite:predict', 're-lite:train'));
