// nx run re-lite:export-onnx --model DIR — writes the trained lite model (its whole embedding stack and the
// BiLSTM-attention head) as model.onnx beside its config.json, for `--engine onnx`. Prints one JSON line.
import { runCli } from '@biore/runtime';
import '@biore/embeddings';
import { exportOnnxCommand } from '@biore/re-model';

runCli(() => exportOnnxCommand('re-lite:export-onnx', 're-lite:train'));
