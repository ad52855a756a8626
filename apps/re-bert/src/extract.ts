// nx run re-bert:extract — relations of a fine-tuned BERT model in PubTator files (plain or gzip), streamed to JSONL.
import { runCli } from '@biore/runtime';
import { extractCommand } from '@biore/re-model';

runCli(() => extractCommand('re-bert:extract', 're-bert:finetune'));
