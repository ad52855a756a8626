import { readFileSync, existsSync } from 'node:fs';
import { UserError } from './errors.ts';
import { writeFileAtomic } from './io.ts';

/** A host-side tensor: row-major values with a shape. Int tensors are kept as Int32Array. */
export interface HostTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export type TensorMap = Record<string, HostTensor>;

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialises tensors in the safetensors layout (8-byte header length, JSON header, raw little-endian data). */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    if (t.data.length !== size(t.shape)) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape}]`);
    const nbytes = t.data.length * 4;
    header[name] = { dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned, as the reference writer does
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let pos = 8 + hbytes.length;
  for (const name of names) {
    const t = tensors[name];
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

function f16ToF32(h: number): number {
  const s = (h & 0x8000) >> 15, e = (h & 0x7c00) >> 10, f = h & 0x03ff;
  const sign = s ? -1 : 1;
  if (e === 0) return sign * Math.pow(2, -14) * (f / 1024);
  if (e === 0x1f) return f ? NaN : sign * Infinity;
  return sign * Math.pow(2, e - 15) * (1 + f / 1024);
}

/** Parses a safetensors buffer; every structural fault is a UserError naming `source` and the tensor. */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): { tensors: TensorMap; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new UserError(`not a safetensors file: ${buf.byteLength} bytes, shorter than the 8-byte header length`, { file: source });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > buf.byteLength - 8) throw new UserError(`truncated safetensors header: it declares ${hlen} bytes but only ${buf.byteLength - 8} follow`, { file: source });
  let header: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, hlen).toString('utf8'));
  } catch (e) {
    throw new UserError(`malformed safetensors header JSON (${(e as Error).message})`, { file: source });
  }
  const dataStart = 8 + hlen;
  const dataLen = buf.byteLength - dataStart;
  const tensors: TensorMap = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = info ?? {};
    if (!(dtype in BYTES) || !Array.isArray(shape) || !Array.isArray(data_offsets) || data_offsets.length !== 2) {
      throw new UserError(`tensor '${name}' has a malformed header entry`, { file: source });
    }
    const [b, e] = data_offsets as [number, number];
    const n = size(shape);
    if (e > dataLen || b > e) throw new UserError(`tensor '${name}' data [${b}, ${e}) lies outside the ${dataLen} data bytes (truncated file?)`, { file: source });
    if (e - b !== n * BYTES[dtype]) throw new UserError(`tensor '${name}' has ${e - b} bytes, expected ${n * BYTES[dtype]} for ${dtype} [${shape}]`, { file: source });
    const v = new DataView(buf.buffer, buf.byteOffset + dataStart + b, e - b);
    let data: Float32Array | Int32Array;
    let outType: HostTensor['dtype'] = 'float32';
    switch (dtype) {
      case 'F32': data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = v.getFloat32(i * 4, true); break;
      case 'F64': data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = v.getFloat64(i * 8, true); break;
      case 'F16': data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = f16ToF32(v.getUint16(i * 2, true)); break;
      case 'BF16': { data = new Float32Array(n); const u = new Uint32Array(data.buffer); for (let i = 0; i < n; i++) u[i] = v.getUint16(i * 2, true) << 16; break; }
      case 'I32': outType = 'int32'; data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = v.getInt32(i * 4, true); break;
      case 'I64': outType = 'int32'; data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = Number(v.getBigInt64(i * 8, true)); break;
      case 'I16': outType = 'int32'; data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = v.getInt16(i * 2, true); break;
      case 'I8': outType = 'int32'; data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = v.getInt8(i); break;
      default: outType = 'int32'; data = new Int32Array(n); for (let i = 0; i < n; i++) data[i] = v.getUint8(i); break;
    }
    tensors[name] = { dtype: outType, shape: shape.slice(), data };
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

export function loadSafetensors(path: string): { tensors: TensorMap; metadata: Record<string, string> } {
  if (!existsSync(path)) throw new UserError('safetensors file not found', { file: path });
  return decodeSafetensors(readFileSync(path), path);
}
