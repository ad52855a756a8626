// nx run re-bert:predict — label, probabilities and each word's attention weight (attention heads) for JSONL sentences.
import { runCli } from '@biore/runtime';
import { predictCommand } from '@biore/re-model';

runCli(() => predictCommand('re-bert:predict', 're-bert:finetune'));
