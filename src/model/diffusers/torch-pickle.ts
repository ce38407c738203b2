import { ModelLoadError } from '../model-error';
import { decodeElements, DTYPE_BYTES, type RawTensor, type StoredDtype } from './tensors';
import { ZipReader } from './zip';

/**
 * Reads a PyTorch checkpoint (`torch.save` of a state dict: a zip with `<name>/data.pkl` and one
 * `<name>/data/<key>` file per storage) as data. A pickle is a program for a small stack machine
 * that may call any Python function it names; this reader runs only the opcodes a state dict uses
 * and knows only the names a state dict needs — collections.OrderedDict, torch._utils._rebuild_tensor_v2
 * and the Float/Half/BFloat16 storage types — and refuses anything else, naming it. Nothing in the
 * file is executed: the "calls" build plain JavaScript values.
 */

/** The globals a state dict needs, and what each stands for. */
const ALLOWED_GLOBALS: Record<string, { kind: 'dict' } | { kind: 'rebuild' } | { kind: 'storage'; dtype: StoredDtype }> = {
  'collections OrderedDict': { kind: 'dict' },
  'torch._utils _rebuild_tensor_v2': { kind: 'rebuild' },
  'torch FloatStorage': { kind: 'storage', dtype: 'F32' },
  'torch HalfStorage': { kind: 'storage', dtype: 'F16' },
  'torch BFloat16Storage': { kind: 'storage', dtype: 'BF16' },
};

type Global = (typeof ALLOWED_GLOBALS)[string];
interface StorageRef {
  storage: true;
  dtype: StoredDtype;
  key: string;
  numel: number;
}
interface TensorRef {
  tensor: true;
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}
type Value = null | boolean | number | string | Value[] | Map<Value, Value> | Global | StorageRef | TensorRef | { mark: true };

const OPCODES: Record<number, string> = {
  0x80: 'PROTO',
  0x95: 'FRAME',
  0x7d: 'EMPTY_DICT',
  0x5d: 'EMPTY_LIST',
  0x29: 'EMPTY_TUPLE',
  0x28: 'MARK',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x94: 'MEMOIZE',
  0x68: 'BINGET',
  0x6a: 'LONG_BINGET',
  0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE',
  0x63: 'GLOBAL',
  0x51: 'BINPERSID',
  0x4b: 'BININT1',
  0x4d: 'BININT2',
  0x4a: 'BININT',
  0x8a: 'LONG1',
  0x47: 'BINFLOAT',
  0x74: 'TUPLE',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x4e: 'NONE',
  0x52: 'REDUCE',
  0x62: 'BUILD',
  0x73: 'SETITEM',
  0x75: 'SETITEMS',
  0x61: 'APPEND',
  0x65: 'APPENDS',
  0x2e: 'STOP',
};

/** Names of opcodes this reader refuses, for the message (pickle's own names). */
const REFUSED: Record<number, string> = {
  0x93: 'STACK_GLOBAL',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x50: 'PERSID',
};

/** Runs a state dict's pickle: returns the top-level dict (name → tensor reference or other value). */
export function unpickleStateDict(pkl: Uint8Array): Map<Value, Value> {
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.length);
  let at = 0;
  const need = (n: number) => {
    if (at + n > pkl.length) throw new ModelLoadError('the .bin pickle is truncated');
  };
  const pop = (): Value => {
    if (stack.length === 0) throw new ModelLoadError('the .bin pickle is damaged (stack underflow)');
    return stack.pop()!;
  };
  const popMark = (): Value[] => {
    let i = stack.length - 1;
    while (i >= 0 && !(typeof stack[i] === 'object' && stack[i] !== null && 'mark' in (stack[i] as object))) i--;
    if (i < 0) throw new ModelLoadError('the .bin pickle is damaged (no mark)');
    const items = stack.splice(i);
    return items.slice(1);
  };
  const line = (): string => {
    const end = pkl.indexOf(0x0a, at);
    if (end < 0) throw new ModelLoadError('the .bin pickle is truncated');
    const s = new TextDecoder().decode(pkl.subarray(at, end));
    at = end + 1;
    return s;
  };
  const text = (n: number) => {
    need(n);
    const s = new TextDecoder('utf-8', { fatal: true }).decode(pkl.subarray(at, at + n));
    at += n;
    return s;
  };
  for (;;) {
    need(1);
    const op = pkl[at++];
    const name = OPCODES[op];
    if (!name)
      throw new ModelLoadError(
        `the .bin pickle uses opcode ${REFUSED[op] ?? `0x${op.toString(16)}`}, which a state dict never needs: refused (nothing in a model file is run)`,
      );
    switch (name) {
      case 'PROTO':
        need(1);
        at += 1;
        break;
      case 'FRAME':
        need(8);
        at += 8;
        break;
      case 'EMPTY_DICT':
        stack.push(new Map());
        break;
      case 'EMPTY_LIST':
        stack.push([]);
        break;
      case 'EMPTY_TUPLE':
        stack.push([]);
        break;
      case 'MARK':
        stack.push({ mark: true });
        break;
      case 'BINPUT':
        need(1);
        memo.set(pkl[at++], stack[stack.length - 1]);
        break;
      case 'LONG_BINPUT':
        need(4);
        memo.set(view.getUint32(at, true), stack[stack.length - 1]);
        at += 4;
        break;
      case 'MEMOIZE':
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 'BINGET':
      case 'LONG_BINGET': {
        const n = name === 'BINGET' ? 1 : 4;
        need(n);
        const key = n === 1 ? pkl[at] : view.getUint32(at, true);
        at += n;
        if (!memo.has(key)) throw new ModelLoadError('the .bin pickle is damaged (memo)');
        stack.push(memo.get(key)!);
        break;
      }
      case 'BINUNICODE':
        need(4);
        at += 4;
        stack.push(text(view.getUint32(at - 4, true)));
        break;
      case 'SHORT_BINUNICODE':
        need(1);
        stack.push(text(pkl[at++]));
        break;
      case 'GLOBAL': {
        const qualified = `${line()} ${line()}`;
        const global = ALLOWED_GLOBALS[qualified];
        if (!global)
          throw new ModelLoadError(
            `the .bin file asks for '${qualified.replace(' ', '.')}', which a state dict never needs: refused (nothing in a model file is run)`,
          );
        stack.push(global);
        break;
      }
      case 'BINPERSID': {
        // ('storage', storage type, key, location, numel)
        const id = pop();
        if (
          !Array.isArray(id) ||
          id[0] !== 'storage' ||
          !isGlobal(id[1], 'storage') ||
          typeof id[2] !== 'string' ||
          typeof id[4] !== 'number'
        )
          throw new ModelLoadError('the .bin pickle names a persistent object that is not a tensor storage: refused');
        stack.push({ storage: true, dtype: (id[1] as { dtype: StoredDtype }).dtype, key: id[2], numel: id[4] });
        break;
      }
      case 'BININT1':
        need(1);
        stack.push(pkl[at++]);
        break;
      case 'BININT2':
        need(2);
        stack.push(view.getUint16(at, true));
        at += 2;
        break;
      case 'BININT':
        need(4);
        stack.push(view.getInt32(at, true));
        at += 4;
        break;
      case 'LONG1': {
        need(1);
        const n = pkl[at++];
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[at + i]);
        if (n > 0 && pkl[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        at += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
          throw new ModelLoadError('the .bin pickle holds an integer too large');
        stack.push(Number(v));
        break;
      }
      case 'BINFLOAT':
        need(8);
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      case 'TUPLE':
        stack.push(popMark());
        break;
      case 'TUPLE1':
      case 'TUPLE2':
      case 'TUPLE3': {
        const n = name === 'TUPLE1' ? 1 : name === 'TUPLE2' ? 2 : 3;
        const items: Value[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(items);
        break;
      }
      case 'NEWTRUE':
        stack.push(true);
        break;
      case 'NEWFALSE':
        stack.push(false);
        break;
      case 'NONE':
        stack.push(null);
        break;
      case 'REDUCE': {
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) throw new ModelLoadError('the .bin pickle is damaged (call arguments)');
        if (isGlobal(fn, 'dict')) stack.push(new Map());
        else if (isGlobal(fn, 'rebuild')) stack.push(rebuild(args));
        else throw new ModelLoadError('the .bin pickle calls something other than the tensor rebuild: refused');
        break;
      }
      case 'BUILD': {
        // the state dict's `_metadata` attribute (module versions): nothing the weights need
        pop();
        if (!(stack[stack.length - 1] instanceof Map))
          throw new ModelLoadError('the .bin pickle sets the state of an object other than a dict: refused');
        break;
      }
      case 'SETITEM': {
        const v = pop();
        const k = pop();
        dictOnTop(stack).set(k, v);
        break;
      }
      case 'SETITEMS': {
        const items = popMark();
        const dict = dictOnTop(stack);
        for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case 'APPEND': {
        const v = pop();
        listOnTop(stack).push(v);
        break;
      }
      case 'APPENDS': {
        const items = popMark();
        listOnTop(stack).push(...items);
        break;
      }
      case 'STOP': {
        const top = pop();
        if (!(top instanceof Map)) throw new ModelLoadError('the .bin file does not hold a state dict (a dict of tensors)');
        return top;
      }
    }
  }
}

const isGlobal = (v: Value, kind: Global['kind']): boolean =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'kind' in v && v.kind === kind;

function dictOnTop(stack: Value[]): Map<Value, Value> {
  const top = stack[stack.length - 1];
  if (!(top instanceof Map)) throw new ModelLoadError('the .bin pickle is damaged (items for something not a dict)');
  return top;
}

function listOnTop(stack: Value[]): Value[] {
  const top = stack[stack.length - 1];
  if (!Array.isArray(top)) throw new ModelLoadError('the .bin pickle is damaged (items for something not a list)');
  return top;
}

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) as a reference. */
function rebuild(args: Value[]): TensorRef {
  const [storage, offset, size, stride] = args;
  const ints = (v: Value) => Array.isArray(v) && v.every((d) => Number.isInteger(d) && (d as number) >= 0);
  if (
    typeof storage !== 'object' ||
    storage === null ||
    !('storage' in storage) ||
    !Number.isInteger(offset) ||
    !ints(size) ||
    !ints(stride)
  )
    throw new ModelLoadError('the .bin pickle rebuilds a tensor from something other than a storage: refused');
  if ((size as number[]).length !== (stride as number[]).length)
    throw new ModelLoadError('the .bin pickle rebuilds a tensor whose size and stride disagree');
  return { tensor: true, storage: storage as StorageRef, offset: offset as number, size: size as number[], stride: stride as number[] };
}

/** A PyTorch .bin checkpoint (a zip) as tensors: each storage read once, each tensor gathered from it by offset and strides. */
export async function readTorchCheckpoint(bytes: Uint8Array): Promise<Map<string, RawTensor>> {
  const zip = new ZipReader(bytes);
  const pklName = zip.names().find((n) => n.endsWith('/data.pkl') || n === 'data.pkl');
  if (!pklName) throw new ModelLoadError('the .bin archive has no data.pkl: not a PyTorch checkpoint');
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const dict = unpickleStateDict(await zip.read(pklName));
  /** Each storage's values, decoded once (tensors may share one). */
  const storages = new Map<string, Float32Array>();
  const out = new Map<string, RawTensor>();
  for (const [name, value] of dict) {
    if (typeof name !== 'string' || typeof value !== 'object' || value === null || !('tensor' in value)) continue;
    const { storage, offset, size, stride } = value;
    let flat = storages.get(storage.key);
    if (!flat) {
      const data = await zip.read(`${prefix}data/${storage.key}`);
      flat = decodeElements(data, 0, Math.floor(data.length / DTYPE_BYTES[storage.dtype]), storage.dtype);
      storages.set(storage.key, flat);
    }
    const count = size.reduce((a, b) => a * b, 1);
    const last = offset + size.reduce((s, d, i) => s + (d - 1) * stride[i], 0);
    if (count > 0 && last >= flat.length)
      throw new ModelLoadError(`tensor '${name}' reaches element ${last} of a storage of ${flat.length}: the file is truncated or lies`);
    out.set(name, { shape: size, values: gather(flat, offset, size, stride) });
  }
  return out;
}

/** The row-major values of a strided view. */
function gather(flat: Float32Array, offset: number, size: number[], stride: number[]): Float32Array {
  const count = size.reduce((a, b) => a * b, 1);
  const contiguous = size.every((_, i) => stride[i] === size.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous) return flat.slice(offset, offset + count);
  const out = new Float32Array(count);
  const index = new Array<number>(size.length).fill(0);
  for (let n = 0; n < count; n++) {
    out[n] = flat[offset + index.reduce((s, k, i) => s + k * stride[i], 0)];
    for (let d = size.length - 1; d >= 0 && ++index[d] === size[d]; d--) index[d] = 0;
  }
  return out;
}
