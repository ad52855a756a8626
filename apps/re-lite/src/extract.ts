// nx run re-lite:extract — relations of a trained lite model in PubTator files (plain or gzip), streamed to JSONL.
import { runCli } from '@biore/runtime';
import '@biore/embeddings';
import { extractCommand } from '@biore/re-model';

runCli(() => extractCommand('re-lite:extract', 're-lite:train'));
