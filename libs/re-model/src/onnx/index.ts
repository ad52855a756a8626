export { OnnxGraph, OPSET } from './graph.ts';
export { embedderExport, type EmbedderExport, type Feeds, type HostInput } from './embedders.ts';
export { liteGraph, liteFeeds } from './lite.ts';
export { bertGraph, bertFeeds, wordAttention } from './bert.ts';
export { OnnxEngine, ONNX_FILE, artifactFolder, exportModelDir, exportOnnx } from './engine.ts';
