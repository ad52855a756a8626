// nx run re-bert:export-onnx --model DIR — writes the fine-tuned BERT RE model (the encoder and its
// classification head) as model.onnx beside its config.json, for `--engine onnx`. Prints one JSON line.
import { runCli } from '@biore/runtime';
import { exportOnnxCommand } from '@biore/re-model';

runCli(() => exportOnnxCommand('re-bert:export-onnx', 're-bert:finetune'));
