import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { UserError } from './errors.ts';
import type { HostTensor, TensorMap } from './safetensors.ts';

/**
 * Reads what `torch.save` writes (the zip format of torch ≥ 1.6, or the older sequential format) without
 * executing anything: the pickle is interpreted by a small stack machine that knows only the opcodes these
 * files use and only these callables — collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
 * _rebuild_parameter, torch.Size, _codecs.encode, the torch.*Storage types — plus the classes a caller names
 * (flair's `flair.data.Dictionary`), which come back as data (PickledObject), never as code. Any other global
 * makes it stop with a UserError, so a hostile pickle cannot run code; so does any malformed opcode sequence.
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

/** An instance of a class the caller allowed, as data: its class, constructor arguments and BUILD state. */
export class PickledObject {
  constructor(readonly className: string, readonly args: unknown[], public state: unknown = undefined) {}
}

class Global { constructor(readonly module: string, readonly name: string) {} }
class StorageRef { constructor(readonly type: string, readonly key: string) {} }
class TensorRef { constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {} }
const MARK = Symbol('mark');

const CALLABLES = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state', 'torch.Size', '_codecs.encode']);

/** Interprets one pickle starting at `start`; returns its value (tensors as TensorRef) and the offset after STOP. */
function unpickle(buf: Uint8Array, source: string, classes: ReadonlySet<string>, start = 0, what = 'data.pkl'): { value: unknown; end: number } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let i = start;
  let at = start; // the opcode being run, for messages
  const fail = (msg: string): never => { throw new UserError(`${what} at byte ${at}: ${msg}`, { file: source }); };
  const need = (n: number) => { if (i + n > buf.length) fail('truncated pickle'); };
  const pop = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail(`pickle opcode 0x${buf[at].toString(16)} on an empty stack (malformed pickle)`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail(`pickle opcode 0x${buf[at].toString(16)} on an empty stack (malformed pickle)`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail('MARK missing (malformed pickle)');
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const list = (v: unknown, op: string): unknown[] => (Array.isArray(v) ? v : fail(`${op} onto a ${kind(v)}, not a list (malformed pickle)`));
  const dict = (v: unknown, op: string): Map<unknown, unknown> => (v instanceof Map ? v : fail(`${op} onto a ${kind(v)}, not a dict (malformed pickle)`));
  const line = () => { const e = buf.indexOf(10, i); if (e < 0) fail('truncated GLOBAL'); const s = dec.decode(buf.subarray(i, e)); i = e + 1; return s; };
  const global = (mod: unknown, name: unknown) => {
    if (typeof mod !== 'string' || typeof name !== 'string') return fail('STACK_GLOBAL without a module and a name (malformed pickle)');
    const full = `${mod}.${name}`;
    if (!CALLABLES.has(full) && !classes.has(full) && !(mod === 'torch' && name in STORAGE_BYTES)) {
      fail(`the pickle refers to ${full}, which biore does not load (only tensors, dicts and ${classes.size ? [...classes].join(', ') : 'state dicts'})`);
    }
    return new Global(mod, name);
  };
  const call = (fn: unknown, args: unknown): unknown => {
    if (!(fn instanceof Global)) return fail('REDUCE on something that is not an allowed global');
    const a = Array.isArray(args) ? args : fail('REDUCE arguments are not a tuple (malformed pickle)');
    const full = `${fn.module}.${fn.name}`;
    if (full === 'collections.OrderedDict') return new Map<unknown, unknown>();
    if (full === 'torch._utils._rebuild_tensor_v2') {
      const [storage, offset, size, stride] = a;
      if (!(storage instanceof StorageRef)) return fail('_rebuild_tensor_v2 without a storage');
      if (typeof offset !== 'number' || !Array.isArray(size) || !Array.isArray(stride) || ![...size, ...stride].every((d) => Number.isInteger(d) && d >= 0)) {
        return fail('_rebuild_tensor_v2 with a malformed offset, size or stride');
      }
      return new TensorRef(storage, offset, size as number[], stride as number[]);
    }
    if (full === 'torch._utils._rebuild_parameter' || full === 'torch._utils._rebuild_parameter_with_state') return a[0];
    if (full === 'torch.Size') return a[0];
    if (full === '_codecs.encode') { // how protocol-2 pickles write bytes: encode(str, 'latin1')
      if (typeof a[0] !== 'string') return fail('_codecs.encode of a non-string');
      return Uint8Array.from([...a[0]].map((c) => c.charCodeAt(0) & 0xff));
    }
    if (classes.has(full)) return new PickledObject(full, a);
    return fail(`call of ${full} is not allowed`);
  };
  for (;;) {
    need(1);
    at = i;
    const op = buf[i++];
    switch (op) {
      case 0x80: need(1); i += 1; break; // PROTO
      case 0x95: need(8); i += 8; break; // FRAME
      case 0x2e: { if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack (malformed pickle)`); return { value: stack.pop(), end: i }; } // STOP
      case 0x63: { const mod = line(), name = line(); stack.push(global(mod, name)); break; } // GLOBAL
      case 0x93: { const name = pop(), mod = pop(); stack.push(global(mod, name)); break; } // STACK_GLOBAL
      case 0x28: stack.push(MARK); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4b: need(1); stack.push(buf[i]); i += 1; break; // BININT1
      case 0x4d: need(2); stack.push(dv.getUint16(i, true)); i += 2; break; // BININT2
      case 0x4a: need(4); stack.push(dv.getInt32(i, true)); i += 4; break; // BININT
      case 0x8a: { need(1); const n = buf[i++]; need(n); let v = 0n; for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[i + k]); if (n && buf[i + n - 1] & 0x80) v -= 1n << BigInt(8 * n); stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v); i += n; break; } // LONG1
      case 0x47: need(8); stack.push(dv.getFloat64(i, false)); i += 8; break; // BINFLOAT
      case 0x58: { need(4); const n = dv.getUint32(i, true); i += 4; need(n); stack.push(dec.decode(buf.subarray(i, i + n))); i += n; break; } // BINUNICODE
      case 0x8c: { need(1); const n = buf[i++]; need(n); stack.push(dec.decode(buf.subarray(i, i + n))); i += n; break; } // SHORT_BINUNICODE
      case 0x8d: { need(8); const n = Number(dv.getBigUint64(i, true)); i += 8; need(n); stack.push(dec.decode(buf.subarray(i, i + n))); i += n; break; } // BINUNICODE8
      case 0x55: { need(1); const n = buf[i++]; need(n); stack.push(String.fromCharCode(...buf.subarray(i, i + n))); i += n; break; } // SHORT_BINSTRING
      case 0x54: { need(4); const n = dv.getUint32(i, true); i += 4; need(n); stack.push(String.fromCharCode(...buf.subarray(i, i + n))); i += n; break; } // BINSTRING
      case 0x43: { need(1); const n = buf[i++]; need(n); stack.push(buf.slice(i, i + n)); i += n; break; } // SHORT_BINBYTES
      case 0x42: { need(4); const n = dv.getUint32(i, true); i += 4; need(n); stack.push(buf.slice(i, i + n)); i += n; break; } // BINBYTES
      case 0x8e: { need(8); const n = Number(dv.getBigUint64(i, true)); i += 8; need(n); stack.push(buf.slice(i, i + n)); i += n; break; } // BINBYTES8
      case 0x71: need(1); memo.set(buf[i++], top()); break; // BINPUT
      case 0x72: need(4); memo.set(dv.getUint32(i, true), top()); i += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: { need(1); const k = buf[i++]; if (!memo.has(k)) fail(`BINGET of memo ${k}, never stored (malformed pickle)`); stack.push(memo.get(k)); break; } // BINGET
      case 0x6a: { need(4); const k = dv.getUint32(i, true); i += 4; if (!memo.has(k)) fail(`LONG_BINGET of memo ${k}, never stored (malformed pickle)`); stack.push(memo.get(k)); break; } // LONG_BINGET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const v = pop(); list(top(), 'APPEND').push(v); break; } // APPEND
      case 0x65: { const items = popMark(); list(top(), 'APPENDS').push(...items); break; } // APPENDS
      case 0x73: { const v = pop(), k = pop(); dict(top(), 'SETITEM').set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = dict(top(), 'SETITEMS');
        if (items.length % 2) fail('SETITEMS with an odd number of items (malformed pickle)');
        for (let k = 0; k < items.length; k += 2) d.set(items[k], items[k + 1]);
        break;
      }
      case 0x52: { const args = pop(), fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args), only for the classes the caller allowed
        const args = pop(), cls = pop();
        if (!(cls instanceof Global) || !classes.has(`${cls.module}.${cls.name}`)) fail('NEWOBJ of a class that is not allowed');
        stack.push(new PickledObject(`${(cls as Global).module}.${(cls as Global).name}`, Array.isArray(args) ? args : []));
        break;
      }
      case 0x62: { // BUILD: an allowed object's state; an OrderedDict's or a tensor's metadata is ignored
        const state = pop();
        const target = top();
        if (target instanceof PickledObject) target.state = state;
        break;
      }
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel[, view_metadata of the legacy format])
        const pid = pop() as unknown[];
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof Global)) fail('unexpected persistent id');
        if (pid.length > 5 && pid[5] != null) fail('storage views (legacy view_metadata) are not supported');
        stack.push(new StorageRef((pid[1] as Global).name, String(pid[2])));
        break;
      }
      default: fail(`pickle opcode 0x${op.toString(16)} is not one torch.save writes for tensors and dicts`);
    }
  }
}

function kind(v: unknown): string {
  if (v instanceof Map) return 'dict';
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'None';
  if (v instanceof PickledObject) return v.className;
  return typeof v;
}

/** Every TensorRef inside a value (dicts, lists, allowed objects' state). */
function tensorRefs(value: unknown, out: TensorRef[] = [], seen = new Set<unknown>()): TensorRef[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof TensorRef) out.push(value);
  else if (value instanceof Map) for (const [k, v] of value) { tensorRefs(k, out, seen); tensorRefs(v, out, seen); }
  else if (Array.isArray(value)) for (const v of value) tensorRefs(v, out, seen);
  else if (value instanceof PickledObject) { tensorRefs(value.args, out, seen); tensorRefs(value.state, out, seen); }
  return out;
}

/** The value with every TensorRef replaced by its HostTensor (in place for dicts, lists and objects). */
function resolve(value: unknown, tensor: (t: TensorRef) => HostTensor, seen = new Set<unknown>()): unknown {
  if (value instanceof TensorRef) return tensor(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  if (value instanceof Map) for (const [k, v] of value) value.set(k, resolve(v, tensor, seen));
  else if (Array.isArray(value)) value.forEach((v, k) => { value[k] = resolve(v, tensor, seen); });
  else if (value instanceof PickledObject) { resolve(value.args, tensor, seen); value.state = resolve(value.state, tensor, seen); }
  return value;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** The pre-1.6 format: pickles of magic number, protocol, sys info, the data and the storage keys, then each storage as int64 count + raw bytes. */
function readLegacy(bytes: Uint8Array, path: string, classes: ReadonlySet<string>): { value: unknown; storages: Record<string, Uint8Array> } {
  const magic = unpickle(bytes, path, classes, 0, 'legacy header');
  if (magic.value !== LEGACY_MAGIC) throw new UserError('not a PyTorch file (no magic number)', { file: path });
  const proto = unpickle(bytes, path, classes, magic.end, 'legacy header');
  const sys = unpickle(bytes, path, classes, proto.end, 'legacy header');
  const data = unpickle(bytes, path, classes, sys.end, 'data pickle');
  const keys = unpickle(bytes, path, classes, data.end, 'storage key list');
  if (!Array.isArray(keys.value)) throw new UserError('the storage key list is not a list', { file: path });
  const types = new Map<string, string>();
  for (const r of tensorRefs(data.value)) types.set(r.storage.key, r.storage.type);
  const storages: Record<string, Uint8Array> = {};
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as unknown[]) {
    if (pos + 8 > bytes.length) throw new UserError(`storage ${String(key)}: truncated file`, { file: path });
    const n = Number(dv.getBigInt64(pos, true));
    const spec = STORAGE_BYTES[types.get(String(key)) ?? 'FloatStorage'];
    pos += 8;
    if (n < 0 || pos + n * spec.bytes > bytes.length) throw new UserError(`storage ${String(key)}: truncated file`, { file: path });
    storages[String(key)] = bytes.subarray(pos, pos + n * spec.bytes);
    pos += n * spec.bytes;
  }
  return { value: data.value, storages };
}

function hostTensor(t: TensorRef, raw: Uint8Array | undefined, what: string, path: string): HostTensor {
  const spec = STORAGE_BYTES[t.storage.type];
  if (!raw) throw new UserError(`${what}: storage ${t.storage.key} missing from the file`, { file: path });
  const n = t.size.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let d = t.size.length - 1, step = 1; d >= 0; d--) { if (t.size[d] > 1 && t.stride[d] !== step) contiguous = false; step *= t.size[d]; }
  if (contiguous && t.storage.type === 'FloatStorage') {
    if ((t.offset + n) * 4 > raw.byteLength) throw new UserError(`${what} reads past its storage (truncated archive?)`, { file: path });
    const copy = new Uint8Array(raw.subarray(t.offset * 4, (t.offset + n) * 4)); // a copy, aligned (Buffer.slice would be a view)
    return { dtype: 'float32', shape: t.size.slice(), data: new Float32Array(copy.buffer, copy.byteOffset, n) };
  }
  const data = spec.int ? new Int32Array(n) : new Float32Array(n);
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  // strided read (state dicts are contiguous, but views of a larger storage are legal)
  const idx = new Array(t.size.length).fill(0);
  for (let k = 0; k < n; k++) {
    let off = t.offset;
    for (let d = 0; d < idx.length; d++) off += idx[d] * t.stride[d];
    if ((off + 1) * spec.bytes > raw.byteLength) throw new UserError(`${what} reads past its storage (truncated archive?)`, { file: path });
    data[k] = spec.read(v, off * spec.bytes);
    for (let d = idx.length - 1; d >= 0; d--) { if (++idx[d] < t.size[d]) break; idx[d] = 0; }
  }
  return { dtype: spec.int ? 'int32' : 'float32', shape: t.size.slice(), data } as HostTensor;
}

export interface TorchLoadOptions {
  /** fully qualified Python classes that may appear as objects (e.g. 'flair.data.Dictionary'); none by default */
  classes?: readonly string[];
}

/**
 * Loads what `torch.save` wrote as data: dicts as Map, lists and tuples as arrays, str as string, bytes as
 * Uint8Array, int / float / bool / None, tensors as HostTensor (float32 / int32), allowed objects as PickledObject.
 */
export function loadTorchFile(path: string, opts: TorchLoadOptions = {}): unknown {
  const bytes = readFileSync(path);
  const classes = new Set(opts.classes ?? []);
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
    const value = unpickle(files[pkl], path, classes).value;
    return resolve(value, (t) => hostTensor(t, files[`${prefix}data/${t.storage.key}`], `tensor in storage ${t.storage.key}`, path));
  }
  if (bytes.length >= 2 && bytes[0] === 0x80) {
    const legacy = readLegacy(bytes, path, classes);
    return resolve(legacy.value, (t) => hostTensor(t, legacy.storages[t.storage.key], `tensor in storage ${t.storage.key}`, path));
  }
  throw new UserError('not a PyTorch file (neither a zip archive nor a legacy pickle stream)', { file: path });
}

export function isHostTensor(v: unknown): v is HostTensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && !(v instanceof Map);
}

/** A state dict's tensors (names as saved), checking the pickle is one. */
export function stateDictTensors(value: unknown, source: string): TensorMap {
  if (!(value instanceof Map)) throw new UserError('the pickle is not a state dict (an OrderedDict of tensors)', { file: source });
  const out: TensorMap = {};
  for (const [k, v] of value) if (isHostTensor(v)) out[String(k)] = v;
  return out;
}

/**
 * Loads the tensors of a `pytorch_model.bin` — the zip format of torch ≥ 1.6 or the older sequential format —
 * as host tensors (float32 / int32), names as saved.
 */
export function loadTorchStateDict(path: string): TensorMap {
  return stateDictTensors(loadTorchFile(path), path);
}

/**
 * Builds pickles the way torch.save lays them out (protocol 2 opcodes, no memo), for writing
 * published formats (flair's LM files): dicts, lists, strings, bytes, numbers, tensors as persistent storages.
 */
export class PickleWriter {
  private readonly parts: number[] = [];
  private readonly enc = new TextEncoder();
  readonly storages: Uint8Array[] = [];
  private byte(...b: number[]) { this.parts.push(...b); return this; }
  private u32(n: number) { return this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); }
  proto() { return this.byte(0x80, 2); }
  mark() { return this.byte(0x28); }
  str(s: string) { const b = this.enc.encode(s); this.byte(0x58).u32(b.length); return this.byte(...b); }
  bytes(b: Uint8Array) { this.byte(0x42).u32(b.length); return this.byte(...b); }
  int(n: number) {
    if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`PickleWriter.int: ${n} is not a 32-bit integer`);
    return this.byte(0x4a).u32(n >>> 0);
  }
  float(x: number) { const b = new DataView(new ArrayBuffer(8)); b.setFloat64(0, x, false); return this.byte(0x47, ...new Uint8Array(b.buffer)); }
  bool(v: boolean) { return this.byte(v ? 0x88 : 0x89); }
  none() { return this.byte(0x4e); }
  global(module: string, name: string) { return this.byte(0x63, ...this.enc.encode(`${module}\n${name}\n`)); }
  emptyDict() { return this.byte(0x7d); }
  emptyList() { return this.byte(0x5d); }
  emptyTuple() { return this.byte(0x29); }
  tuple() { return this.byte(0x74); }
  setitems() { return this.byte(0x75); }
  appends() { return this.byte(0x65); }
  reduce() { return this.byte(0x52); }
  newobj() { return this.byte(0x81); }
  build() { return this.byte(0x62); }
  ints(ns: readonly number[]) { this.mark(); for (const n of ns) this.int(n); return this.tuple(); }
  /** A float32 tensor as torch._utils._rebuild_tensor_v2 of a new FloatStorage (contiguous). */
  tensor(t: HostTensor) {
    if (t.dtype !== 'float32') throw new Error('PickleWriter.tensor writes float32 tensors');
    const key = String(this.storages.length);
    this.storages.push(new Uint8Array(Float32Array.from(t.data).buffer));
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', 'FloatStorage').str(key).str('cpu').int(t.data.length).tuple().byte(0x51);
    this.int(0).ints(t.shape).ints(stride).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }
  stop() { return this.byte(0x2e); }
  get pickle(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** The zip layout of torch ≥ 1.6: `<name>/data.pkl`, `<name>/data/<key>` per storage, `<name>/version`. */
export function torchZip(w: PickleWriter, name = 'archive'): Uint8Array {
  const files: Record<string, Uint8Array> = { [`${name}/data.pkl`]: w.pickle };
  w.storages.forEach((s, k) => { files[`${name}/data/${k}`] = s; });
  files[`${name}/version`] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}
