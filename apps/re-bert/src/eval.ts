// nx run re-bert:eval — scores a fine-tuned BERT RE model on a split: micro P/R/F1 over the positive classes, per class, confusion.
import { runCli } from '@biore/runtime';
import { evalCommand } from '@biore/re-model';

runCli(async () => {
  console.log(JSON.stringify(await evalCommand('re-bert:eval', 're-bert:finetune', 32)));
});
