/**
 * A reference scanner for function bodies: walks every instruction of the code section once,
 * skipping immediates by opcode, and reports only the references that keep other items alive
 * (calls, `ref.func`, `call_indirect`, globals, tables, data and element segments). It allocates
 * nothing per instruction: references go to a callback as plain numbers.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";

/** What a body refers to. */
export const Ref = {
  /** `call` / `return_call` of a function index. */
  call: 1,
  /** `ref.func` of a function index. */
  refFunc: 2,
  /** `call_indirect` / `return_call_indirect`: `index` is the table, `extra` the type index. */
  callIndirect: 3,
  /** `global.get` / `global.set`. */
  global: 4,
  /** Any other table instruction (`table.get/set/grow/size/fill/copy`): `index` is the table. */
  table: 5,
  /** `memory.init` / `data.drop` / `array.new_data` / `array.init_data`: a data segment. */
  data: 6,
  /** `table.init` / `elem.drop` / `array.new_elem` / `array.init_elem`: an element segment. */
  elem: 7,
} as const;

/** Receives one reference of the body being scanned. */
export type RefSink = (kind: number, index: number, extra: number) => void;

// Immediate classes of one-byte opcodes.
const NONE = 0;
const U32 = 1; // one LEB (local, label, memory index, ...)
const BLOCK = 2; // block type
const MEMARG = 3;
const I32 = 4; // skip one signed LEB
const F32 = 5;
const F64 = 6;
const CALL = 7;
const REF_FUNC = 8;
const CALL_INDIRECT = 9;
const GLOBAL = 10;
const TABLE = 11;
const BR_TABLE = 12;
const SELECT_T = 13;
const TRY_TABLE = 14;
const HEAP = 15;
const FC = 16;
const FD = 17;
const FE = 18;
const FB = 19;
const BAD = 255;

const CLASS = new Uint8Array(256).fill(BAD);
for (const op of [0x00, 0x01, 0x05, 0x0a, 0x0b, 0x0f, 0x19, 0x1a, 0x1b, 0xd1, 0xd3, 0xd4]) {
  CLASS[op] = NONE;
}
for (let op = 0x45; op <= 0xc4; op++) CLASS[op] = NONE;
for (let op = 0x28; op <= 0x3e; op++) CLASS[op] = MEMARG;
for (const op of [0x02, 0x03, 0x04, 0x06]) CLASS[op] = BLOCK;
for (const op of [0x07, 0x08, 0x09, 0x0c, 0x0d, 0x14, 0x15, 0x18, 0x20, 0x21, 0x22, 0x3f, 0x40]) {
  CLASS[op] = U32;
}
CLASS[0xd5] = U32;
CLASS[0xd6] = U32;
CLASS[0x0e] = BR_TABLE;
CLASS[0x10] = CALL;
CLASS[0x12] = CALL;
CLASS[0x11] = CALL_INDIRECT;
CLASS[0x13] = CALL_INDIRECT;
CLASS[0x1c] = SELECT_T;
CLASS[0x1f] = TRY_TABLE;
CLASS[0x23] = GLOBAL;
CLASS[0x24] = GLOBAL;
CLASS[0x25] = TABLE;
CLASS[0x26] = TABLE;
CLASS[0x41] = I32;
CLASS[0x42] = I32;
CLASS[0x43] = F32;
CLASS[0x44] = F64;
CLASS[0xd0] = HEAP;
CLASS[0xd2] = REF_FUNC;
CLASS[0xfb] = FB;
CLASS[0xfc] = FC;
CLASS[0xfd] = FD;
CLASS[0xfe] = FE;

/**
 * Scans the bodies of the code section payload `code` (`[start, end)` of each body given by
 * `bodyStart`/`bodyEnd`) and calls `sink` for every reference; `onFunction(i)` runs before body
 * `i`. `base` is the file offset of `code[0]`, for errors.
 */
export function scanBodies(
  code: Uint8Array,
  bodyStart: Uint32Array,
  bodyEnd: Uint32Array,
  base: number,
  onFunction: (i: number) => void,
  sink: RefSink,
): void {
  const b = code;
  const fail = (msg: string, at: number): never => {
    throw new WasmParseError(msg, base + at);
  };
  // The cursor `p` stays a local of this function: LEBs are decoded inline (V8 keeps `p` in a
  // register; helpers closing over it would spill it to the heap on every byte).
  for (let f = 0; f < bodyStart.length; f++) {
    onFunction(f);
    let p = bodyStart[f];
    const end = bodyEnd[f];
    let v = 0;
    let shift = 0;
    let x = 0;
    // Local groups: count, then (count, valtype) pairs.
    v = 0;
    shift = 0;
    do {
      x = b[p++];
      v |= (x & 0x7f) << shift;
      shift += 7;
    } while (x & 0x80 && shift < 35);
    for (let groups = v >>> 0; groups > 0 && p < end; groups--) {
      while (b[p++] & 0x80);
      x = b[p++];
      if (x === 0x63 || x === 0x64) { while (b[p++] & 0x80); }
    }
    while (p < end) {
      const at = p;
      const op = b[p++];
      switch (CLASS[op]) {
        case NONE:
          break;
        case U32:
        case I32:
        case HEAP:
          while (b[p++] & 0x80);
          break;
        case BLOCK:
          x = b[p];
          if (x === 0x63 || x === 0x64) p++;
          while (b[p++] & 0x80);
          break;
        case MEMARG:
          x = b[p];
          while (b[p++] & 0x80);
          if (x & 0x40) { while (b[p++] & 0x80); }
          while (b[p++] & 0x80);
          break;
        case F32:
          p += 4;
          break;
        case F64:
          p += 8;
          break;
        case CALL:
        case REF_FUNC:
        case GLOBAL:
        case TABLE:
          v = 0;
          shift = 0;
          do {
            x = b[p++];
            v |= (x & 0x7f) << shift;
            shift += 7;
          } while (x & 0x80 && shift < 35);
          sink(
            op === 0xd2
              ? Ref.refFunc
              : CLASS[op] === CALL
              ? Ref.call
              : CLASS[op] === GLOBAL
              ? Ref.global
              : Ref.table,
            v >>> 0,
            0,
          );
          break;
        case CALL_INDIRECT: {
          v = 0;
          shift = 0;
          do {
            x = b[p++];
            v |= (x & 0x7f) << shift;
            shift += 7;
          } while (x & 0x80 && shift < 35);
          const type = v >>> 0;
          v = 0;
          shift = 0;
          do {
            x = b[p++];
            v |= (x & 0x7f) << shift;
            shift += 7;
          } while (x & 0x80 && shift < 35);
          sink(Ref.callIndirect, v >>> 0, type);
          break;
        }
        default: {
          // Rare shapes: decoded with a small reader.
          const r = rare(b, p, at, op, f, sink, fail);
          p = r;
        }
      }
    }
    if (p !== end) {
      fail(`function body ${f} ends inside an instruction; the file is corrupt, rebuild it`, end);
    }
  }
}

/** Decodes the immediates of the less common instructions at `p`; returns the new cursor. */
function rare(
  b: Uint8Array,
  p: number,
  at: number,
  op: number,
  f: number,
  sink: RefSink,
  fail: (msg: string, at: number) => never,
): number {
  const u32 = (): number => {
    let v = 0;
    let shift = 0;
    let x;
    do {
      x = b[p++];
      v |= (x & 0x7f) << shift;
      shift += 7;
    } while (x & 0x80 && shift < 35);
    return v >>> 0;
  };
  const skip = () => {
    while (b[p++] & 0x80);
  };
  const valtype = () => {
    const t = b[p++];
    if (t === 0x63 || t === 0x64) skip();
  };
  const blockType = () => {
    const t = b[p];
    if (t === 0x63 || t === 0x64) p++;
    skip();
  };
  const memarg = () => {
    const align = u32();
    if (align & 0x40) skip();
    skip();
  };
  switch (CLASS[op]) {
    case BR_TABLE: {
      let n = u32() + 1;
      while (n-- > 0) skip();
      return p;
    }
    case SELECT_T: {
      let n = u32();
      while (n-- > 0) valtype();
      return p;
    }
    case TRY_TABLE: {
      blockType();
      let n = u32();
      while (n-- > 0) {
        const kind = b[p++];
        if (kind === 0 || kind === 1) skip();
        skip();
      }
      return p;
    }
    case FC: {
      const sub = u32();
      if (sub <= 7) return p;
      switch (sub) {
        case 8: // memory.init data mem
          sink(Ref.data, u32(), 0);
          skip();
          return p;
        case 9: // data.drop
          sink(Ref.data, u32(), 0);
          return p;
        case 10: // memory.copy
          skip();
          skip();
          return p;
        case 11: // memory.fill
          skip();
          return p;
        case 12: // table.init elem table
          sink(Ref.elem, u32(), 0);
          sink(Ref.table, u32(), 0);
          return p;
        case 13: // elem.drop
          sink(Ref.elem, u32(), 0);
          return p;
        case 14: // table.copy dst src
          sink(Ref.table, u32(), 0);
          sink(Ref.table, u32(), 0);
          return p;
        case 15:
        case 16:
        case 17:
          sink(Ref.table, u32(), 0);
          return p;
      }
      return fail(
        `unknown instruction 0xfc ${sub} in function body ${f}; the file is corrupt or uses a proposal linkpass does not know`,
        at,
      );
    }
    case FD: {
      const sub = u32();
      if (sub <= 11 || sub === 92 || sub === 93) memarg();
      else if (sub === 12 || sub === 13) p += 16;
      else if (sub >= 21 && sub <= 34) p++;
      else if (sub >= 84 && sub <= 91) {
        memarg();
        p++;
      }
      return p;
    }
    case FE:
      if (u32() === 3) p++;
      else memarg();
      return p;
    case FB: {
      const sub = u32();
      if (sub <= 1 || sub === 6 || sub === 7 || (sub >= 11 && sub <= 14) || sub === 16) skip();
      else if (sub <= 5 || sub === 8 || sub === 17) {
        skip();
        skip();
      } else if (sub === 9 || sub === 18) {
        skip();
        sink(Ref.data, u32(), 0);
      } else if (sub === 10 || sub === 19) {
        skip();
        sink(Ref.elem, u32(), 0);
      } else if (sub === 15 || (sub >= 26 && sub <= 30)) return p;
      else if (sub >= 20 && sub <= 23) skip();
      else if (sub === 24 || sub === 25) {
        p++; // cast flags
        skip();
        skip();
        skip();
      } else {fail(
          `unknown instruction 0xfb ${sub} in function body ${f}; the file is corrupt or uses a proposal linkpass does not know`,
          at,
        );}
      return p;
    }
    default:
      return fail(
        `unknown opcode 0x${
          op.toString(16)
        } in function body ${f}; the file is corrupt or uses a proposal linkpass does not know`,
        at,
      );
  }
}
