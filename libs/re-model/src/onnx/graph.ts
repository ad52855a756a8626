import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The ONNX schema subset of onnx.proto beside this file, parsed once by protobufjs (field names as in the .proto). */
const root = protobuf.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'onnx.proto'), 'utf8'), { keepCase: true }).root;
const ModelProto = root.lookupType('onnx.ModelProto');

export const OPSET = 17;
const IR_VERSION = 8;
const FLOAT = 1, INT32 = 6, INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

export type ElemType = 'float' | 'int64' | 'int32';
/** a dimension: a size, or a symbolic name ('batch', 'time') */
export type Dim = number | string;

/** A float attribute (plain numbers are INT attributes). */
export class F { constructor(readonly value: number) {} }
export const f = (x: number) => new F(x);
export type AttrValue = number | F | number[] | F[] | string | OnnxGraph;

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (v instanceof F) return { name, type: ATTR.FLOAT, f: v.value };
  if (typeof v === 'number') return { name, type: ATTR.INT, i: v };
  if (typeof v === 'string') return { name, type: ATTR.STRING, s: new TextEncoder().encode(v) };
  if (v instanceof OnnxGraph) return { name, type: ATTR.GRAPH, g: v.proto() };
  if (v.length && v[0] instanceof F) return { name, type: ATTR.FLOATS, floats: (v as F[]).map((x) => x.value) };
  return { name, type: ATTR.INTS, ints: v as number[] };
}

function valueInfo(name: string, type: ElemType, dims: Dim[]) {
  return {
    name,
    type: { tensor_type: { elem_type: type === 'float' ? FLOAT : type === 'int32' ? INT32 : INT64, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

/**
 * One ONNX graph under construction: typed inputs and outputs, initializers (the weights, as raw
 * little-endian bytes) and nodes. `op` returns the names of a node's outputs, fresh unless given.
 */
export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inits: Record<string, unknown>[] = [];
  private readonly ins: Record<string, unknown>[] = [];
  private readonly outs: Record<string, unknown>[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(readonly name: string) {}

  fresh(hint: string): string {
    return `${this.name}/${hint}_${this.counter++}`;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.ins.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): void {
    this.outs.push(valueInfo(name, type, dims));
  }

  /** A float initializer (weights); the data is copied as raw bytes. */
  weight(hint: string, data: Float32Array, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`ONNX initializer ${hint}: ${data.length} values for shape [${dims}]`);
    const name = this.fresh(hint);
    this.inits.push({ name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return name;
  }

  /** A small int64 constant (shapes, axes, indices), shared when repeated. */
  ints(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `i${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh('const');
      this.inits.push({ name, dims, data_type: INT64, int64_data: [...values] });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float constant (scalars such as -1e9, 1), shared when repeated. */
  floats(values: readonly number[], dims: number[] = []): string {
    const key = `f${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.weight('constf', Float32Array.from(values), dims);
      this.constants.set(key, name);
    }
    return name;
  }

  /** Adds a node; returns its outputs (`outputs` names them, else `count` fresh names). */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, count = 1, outputs?: string[]): string[] {
    const outs = outputs ?? Array.from({ length: count }, () => this.fresh(type.toLowerCase()));
    this.nodes.push({ op_type: type, input: inputs, output: outs, name: this.fresh(`n_${type}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return outs;
  }

  /** A single-output node. */
  op1(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.op(type, inputs, attrs, 1, output ? [output] : undefined)[0];
  }

  proto(): Record<string, unknown> {
    return { name: this.name, node: this.nodes, initializer: this.inits, input: this.ins, output: this.outs };
  }

  /** The serialized .onnx model of this (main) graph. */
  toModel(meta: Record<string, string> = {}): Uint8Array {
    const model = {
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'biore',
      producer_version: '0.1.0',
      graph: this.proto(),
      metadata_props: Object.entries(meta).map(([key, value]) => ({ key, value })),
    };
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
