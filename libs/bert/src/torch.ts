import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { UserError, type HostTensor, type TensorMap } from '@biore/runtime';

/**
 * Reads the tensors of a PyTorch `pytorch_model.bin` (the zip format of torch ≥ 1.6, or the older sequential
 * format) without executing anything: the state-dict pickle is interpreted by a small stack machine that knows only the opcodes a
 * state dict uses and only these callables — collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter and the torch.*Storage types — and turns them into data. Any other
 * global makes it stop with a UserError, so a hostile pickle cannot run code.
 */

const STORAGE_BYTES: Record<string, { bytes: number; read: (v: DataView, o: number) => number; int: boolean }> = {
  FloatStorage: { bytes: 4, read: (v, o) => v.getFloat32(o, true), int: false },
  DoubleStorage: { bytes: 8, read: (v, o) => v.getFloat64(o, true), int: false },
  HalfStorage: { bytes: 2, read: (v, o) => f16(v.getUint16(o, true)), int: false },
  BFloat16Storage: { bytes: 2, read: (v, o) => { const b = new DataView(new ArrayBuffer(4)); b.setUint32(0, v.getUint16(o, true) << 16); return b.getFloat32(0); }, int: false },
  LongStorage: { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)), int: true },
  IntStorage: { bytes: 4, read: (v, o) => v.getInt32(o, true), int: true },
  ShortStorage: { bytes: 2, read: (v, o) => v.getInt16(o, true), int: true },
  CharStorage: { bytes: 1, read: (v, o) => v.getInt8(o), int: true },
  ByteStorage: { bytes: 1, read: (v, o) => v.getUint8(o), int: true },
  BoolStorage: { bytes: 1, read: (v, o) => v.getUint8(o), int: true },
};

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h & 0x7c00) >> 10, f = h & 0x03ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 0x1f) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

class Global { constructor(readonly module: string, readonly name: string) {} }
class StorageRef { constructor(readonly type: string, readonly key: string) {} }
class TensorRef { constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {} }
const MARK = Symbol('mark');

function stateDict(value: unknown, source: string): Map<string, TensorRef> {
  if (!(value instanceof Map)) throw new UserError('the pickle is not a state dict (an OrderedDict of tensors)', { file: source });
  const out = new Map<string, TensorRef>();
  for (const [k, v] of value as Map<string, unknown>) if (v instanceof TensorRef) out.set(String(k), v);
  return out;
}

const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', 'torch.Size']);

/** Interprets one pickle starting at `start`; returns its value (tensors as TensorRef) and the offset after STOP. */
function unpickle(buf: Uint8Array, source: string, start = 0, what = 'data.pkl'): { value: unknown; end: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let i = start;
  const fail = (msg: string): never => { throw new UserError(`${what} at byte ${i}: ${msg}`, { file: source }); };
  const need = (n: number) => { if (i + n > buf.length) fail('truncated pickle'); };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail('MARK missing');
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const line = () => { const e = buf.indexOf(10, i); if (e < 0) fail('truncated GLOBAL'); const s = dec.decode(buf.subarray(i, e)); i = e + 1; return s; };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) return fail('REDUCE on something that is not an allowed global');
    const a = args as unknown[];
    const full = `${fn.module}.${fn.name}`;
    if (full === 'collections.OrderedDict') return new Map<string, unknown>();
    if (full === 'torch._utils._rebuild_tensor_v2') {
      const [storage, offset, size, stride] = a;
      if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2 without a storage');
      return new TensorRef(storage, offset as number, size as number[], stride as number[]);
    }
    if (full === 'torch._utils._rebuild_parameter') return a[0];
    if (full === 'torch.Size') return a[0];
    return fail(`call of ${full} is not allowed`);
  };
  for (;;) {
    need(1);
    const op = buf[i++];
    switch (op) {
      case 0x80: i += 1; break; // PROTO
      case 0x95: i += 8; break; // FRAME
      case 0x2e: return { value: stack.pop(), end: i }; // STOP
      case 0x63: { const mod = line(), name = line(); // GLOBAL
        const full = `${mod}.${name}`;
        if (!ALLOWED.has(full) && !(mod === 'torch' && name in STORAGE_BYTES)) fail(`the pickle refers to ${full}, which biore does not load (only tensors of a state dict)`);
        stack.push(new Global(mod, name)); break; }
      case 0x93: { // STACK_GLOBAL
        const name = stack.pop() as string, mod = stack.pop() as string;
        const full = `${mod}.${name}`;
        if (!ALLOWED.has(full) && !(mod === 'torch' && name in STORAGE_BYTES)) fail(`the pickle refers to ${full}, which biore does not load (only tensors of a state dict)`);
        stack.push(new Global(mod, name)); break; }
      case 0x28: stack.push(MARK); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: need(1); stack.push(buf[i]); i += 1; break; // BININT1
      case 0x4d: need(2); stack.push(dv.getUint16(i, true)); i += 2; break; // BININT2
      case 0x4a: need(4); stack.push(dv.getInt32(i, true)); i += 4; break; // BININT
      case 0x8a: { need(1); const n = buf[i++]; need(n); let v = 0n; for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[i + k]); if (n && buf[i + n - 1] & 0x80) v -= 1n << BigInt(8 * n); stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v); i += n; break; } // LONG1
      case 0x47: need(8); stack.push(dv.getFloat64(i, false)); i += 8; break; // BINFLOAT
      case 0x58: { need(4); const n = dv.getUint32(i, true); i += 4; need(n); stack.push(dec.decode(buf.subarray(i, i + n))); i += n; break; } // BINUNICODE
      case 0x8c: { need(1); const n = buf[i++]; need(n); stack.push(dec.decode(buf.subarray(i, i + n))); i += n; break; } // SHORT_BINUNICODE
      case 0x43: { need(1); const n = buf[i++]; need(n); stack.push(buf.slice(i, i + n)); i += n; break; } // SHORT_BINBYTES
      case 0x42: { need(4); const n = dv.getUint32(i, true); i += 4; need(n); stack.push(buf.slice(i, i + n)); i += n; break; } // BINBYTES
      case 0x71: need(1); memo.set(buf[i++], stack[stack.length - 1]); break; // BINPUT
      case 0x72: need(4); memo.set(dv.getUint32(i, true), stack[stack.length - 1]); i += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: need(1); stack.push(memo.get(buf[i++])); break; // BINGET
      case 0x6a: need(4); stack.push(memo.get(dv.getUint32(i, true))); i += 4; break; // LONG_BINGET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(), a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(), b = stack.pop(), a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const v = stack.pop(); (stack[stack.length - 1] as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (stack[stack.length - 1] as unknown[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(), k = stack.pop(); (stack[stack.length - 1] as Map<unknown, unknown>).set(k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); const d = stack[stack.length - 1]; if (!(d instanceof Map)) fail('SETITEMS on a non-dict'); for (let k = 0; k < items.length; k += 2) (d as Map<unknown, unknown>).set(items[k], items[k + 1]); break; } // SETITEMS
      case 0x52: { const args = stack.pop(), fn = stack.pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x62: stack.pop(); break; // BUILD: OrderedDict state (metadata), ignored
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel[, view_metadata of the legacy format])
        const pid = stack.pop() as unknown[];
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global)) fail('unexpected persistent id');
        if (pid.length > 5 && pid[5] != null) fail('storage views (legacy view_metadata) are not supported');
        stack.push(new StorageRef((pid[1] as Global).name, String(pid[2])));
        break;
      }
      default: fail(`pickle opcode 0x${op.toString(16)} is not part of a state dict`);
    }
  }
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** The pre-1.6 format: pickles of magic number, protocol, sys info, the state dict and the storage keys, then each storage as int64 count + raw bytes. */
function readLegacy(bytes: Uint8Array, path: string): { refs: Map<string, TensorRef>; storages: Record<string, Uint8Array> } {
  const magic = unpickle(bytes, path, 0, 'legacy header');
  if (magic.value !== LEGACY_MAGIC) throw new UserError('not a PyTorch file (no magic number)', { file: path });
  const proto = unpickle(bytes, path, magic.end, 'legacy header');
  const sys = unpickle(bytes, path, proto.end, 'legacy header');
  const data = unpickle(bytes, path, sys.end, 'state dict pickle');
  const keys = unpickle(bytes, path, data.end, 'storage key list');
  const refs = stateDict(data.value, path);
  const types = new Map<string, string>();
  for (const r of refs.values()) types.set(r.storage.key, r.storage.type);
  const storages: Record<string, Uint8Array> = {};
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as unknown[]) {
    if (pos + 8 > bytes.length) throw new UserError(`storage ${String(key)}: truncated file`, { file: path });
    const n = Number(dv.getBigInt64(pos, true));
    const spec = STORAGE_BYTES[types.get(String(key)) ?? 'FloatStorage'];
    pos += 8;
    if (pos + n * spec.bytes > bytes.length) throw new UserError(`storage ${String(key)}: truncated file`, { file: path });
    storages[String(key)] = bytes.subarray(pos, pos + n * spec.bytes);
    pos += n * spec.bytes;
  }
  return { refs, storages };
}

/**
 * Loads the tensors of a `pytorch_model.bin` — the zip format of torch ≥ 1.6 or the older sequential format —
 * as host tensors (float32 / int32), names as saved.
 */
export function loadTorchStateDict(path: string): TensorMap {
  const bytes = readFileSync(path);
  let refs: Map<string, TensorRef>;
  let storage: (key: string) => Uint8Array | undefined;
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (e) {
      throw new UserError(`corrupt zip (${(e as Error).message})`, { file: path });
    }
    const pkl = Object.keys(files).find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
    if (!pkl) throw new UserError('no data.pkl in the archive', { file: path });
    const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
    refs = stateDict(unpickle(files[pkl], path).value, path);
    storage = (key) => files[`${prefix}data/${key}`];
  } else if (bytes.length >= 2 && bytes[0] === 0x80) {
    const legacy = readLegacy(bytes, path);
    refs = legacy.refs;
    storage = (key) => legacy.storages[key];
  } else {
    throw new UserError('not a PyTorch file (neither a zip archive nor a legacy pickle stream)', { file: path });
  }
  const out: TensorMap = {};
  for (const [name, t] of refs) {
    const spec = STORAGE_BYTES[t.storage.type];
    const raw = storage(t.storage.key);
    if (!raw) throw new UserError(`tensor '${name}': storage ${t.storage.key} missing from the file`, { file: path });
    const n = t.size.reduce((a, b) => a * b, 1);
    let contiguous = true;
    for (let d = t.size.length - 1, step = 1; d >= 0; d--) { if (t.size[d] > 1 && t.stride[d] !== step) contiguous = false; step *= t.size[d]; }
    if (contiguous && t.storage.type === 'FloatStorage') {
      if ((t.offset + n) * 4 > raw.byteLength) throw new UserError(`tensor '${name}' reads past its storage (truncated archive?)`, { file: path });
      const copy = new Uint8Array(raw.subarray(t.offset * 4, (t.offset + n) * 4)); // a copy, aligned (Buffer.slice would be a view)
      out[name] = { dtype: 'float32', shape: t.size.slice(), data: new Float32Array(copy.buffer, copy.byteOffset, n) };
      continue;
    }
    const data = spec.int ? new Int32Array(n) : new Float32Array(n);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    // strided read (state dicts are contiguous, but views of a larger storage are legal)
    const idx = new Array(t.size.length).fill(0);
    for (let k = 0; k < n; k++) {
      let off = t.offset;
      for (let d = 0; d < idx.length; d++) off += idx[d] * t.stride[d];
      if ((off + 1) * spec.bytes > raw.byteLength) throw new UserError(`tensor '${name}' reads past its storage (truncated archive?)`, { file: path });
      data[k] = spec.read(v, off * spec.bytes);
      for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < t.size[d]) break; idx[d] = 0; }
    }
    out[name] = { dtype: spec.int ? 'int32' : 'float32', shape: t.size.slice(), data } as HostTensor;
  }
  return out;
}
