// nx run re-lite:eval — scores a trained RE model on a split: micro P/R/F1 over the positive classes, per class, confusion.
import { runCli } from '@biore/runtime';
import '@biore/embeddings';
import { evalCommand } from '@biore/re-model';

runCli(async () => {
  console.log(JSON.stringify(await evalCommand('re-lite:eval', 're-lite:train', 64)));
});
