/**
 * A fast instruction decoder for function bodies and constant expressions: it walks every
 * instruction, knows the shape of each immediate, and reports the index immediates (functions,
 * globals, types, tables, memories, data and element segments, tags, labels) with their byte
 * positions, so passes can analyse or renumber code without a full IR.
 * @module
 */
import { WasmParseError } from "./errors.ts";

/** What an index immediate refers to. */
export type ImmediateKind =
  | "func"
  | "global"
  | "type"
  | "table"
  | "memory"
  | "data"
  | "elem"
  | "tag"
  | "label"
  | "local";

/** Kinds as numbers, for the hot path. */
export const Imm = {
  func: 0,
  global: 1,
  type: 2,
  table: 3,
  memory: 4,
  data: 5,
  elem: 6,
  tag: 7,
  label: 8,
  local: 9,
} as const;

/** Kind names by number. */
export const IMMEDIATE_KINDS: readonly ImmediateKind[] = [
  "func",
  "global",
  "type",
  "table",
  "memory",
  "data",
  "elem",
  "tag",
  "label",
  "local",
];

/** Every kind: the default of {@linkcode InstructionVisitor.kinds}. */
const ALL_KINDS = (1 << IMMEDIATE_KINDS.length) - 1;
const TYPE_BIT = 1 << Imm.type;

/**
 * Called for each instruction once its immediates are read: the opcode, the sub-opcode of
 * prefixed instructions (-1 otherwise), and the instruction's byte range.
 */
export type InstructionHandler = (op: number, sub: number, start: number, end: number) => void;

/**
 * Called for each index immediate: its kind (see {@linkcode Imm}), value, the position and
 * length of its LEB in the body, and the opcode of its instruction.
 */
export type ImmediateHandler = (
  kind: number,
  value: number,
  at: number,
  length: number,
  op: number,
) => void;

/** Called for each value or heap type byte met in immediates (block types, `select t`, ...). */
export type TypeByteHandler = (byte: number) => void;

/** Handlers for {@linkcode decodeInstructions}; all optional. */
export interface InstructionVisitor {
  /** Each instruction, after its immediates. */
  instruction?: InstructionHandler;
  /** Each index immediate, in order, before its instruction's `instruction` call. */
  immediate?: ImmediateHandler;
  /** Each value type and heap type in immediates and locals (the first byte of its encoding). */
  typeByte?: TypeByteHandler;
  /** Each group of locals of a function body: how many, and the first byte of their type. */
  locals?: (count: number, typeByte: number) => void;
  /**
   * The kinds that `immediate` is called for, as a bit mask (`1 << Imm.func | 1 << Imm.global`);
   * all kinds by default. Immediates of other kinds are still read and checked.
   */
  kinds?: number;
}

/**
 * Decodes the instructions of `bytes[start, end)`. With `locals` the range starts with a local
 * declaration vector (a function body); otherwise it is a constant expression or bare code.
 * Throws a {@linkcode WasmParseError} (offsets relative to `base`) on malformed code.
 *
 * @example Find the calls in a body
 * ```ts
 * import assert from "node:assert";
 * import { decodeInstructions, Imm } from "./instructions.ts";
 * // no locals; i32.const 1; call 3; drop; end
 * const body = new Uint8Array([0, 0x41, 1, 0x10, 3, 0x1a, 0x0b]);
 * const calls: number[] = [];
 * decodeInstructions(body, 0, body.length, true, {
 *   kinds: 1 << Imm.func, // only function indices reach `immediate`
 *   immediate: (_kind, value) => calls.push(value),
 * });
 * assert.deepStrictEqual(calls, [3]);
 * ```
 */
export function decodeInstructions(
  bytes: Uint8Array,
  start: number,
  end: number,
  locals: boolean,
  visitor: InstructionVisitor,
  base = 0,
): void {
  new Decoder(bytes, start, end, visitor, base).run(locals);
}

class Decoder {
  pos: number;
  /** The opcode being decoded. */
  op = 0;
  readonly onInstr?: InstructionHandler;
  readonly onImm?: ImmediateHandler;
  readonly onType?: TypeByteHandler;
  readonly onLocals?: (count: number, typeByte: number) => void;
  /** The kinds reported to `onImm` (bit `1 << kind`); 0 without `onImm`. */
  readonly mask: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    visitor: InstructionVisitor,
    readonly base: number,
  ) {
    this.pos = start;
    this.onInstr = visitor.instruction;
    this.onImm = visitor.immediate;
    this.onType = visitor.typeByte;
    this.onLocals = visitor.locals;
    this.mask = visitor.immediate ? visitor.kinds ?? ALL_KINDS : 0;
  }

  fail(message: string, at = this.pos): never {
    throw new WasmParseError(message, this.base + at);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail("unexpected end of the code");
    return this.bytes[this.pos++];
  }

  u32(): number {
    const b = this.bytes;
    // Most immediates fit in one byte (locals, labels, small indices).
    if (this.pos < this.end && b[this.pos] < 0x80) return b[this.pos++];
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of the code in a LEB128 number");
      const byte = b[this.pos++];
      result |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (i === 4 && byte > 0x0f) this.fail("invalid u32 LEB128", this.pos - 1);
        return result >>> 0;
      }
      shift += 7;
    }
    return this.fail("LEB128 number longer than 5 bytes", this.pos - 1);
  }

  /** Skips a signed or unsigned LEB of at most `max` bytes. */
  skipLeb(max: number): void {
    const b = this.bytes;
    for (let i = 0; i < max; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of the code in a LEB128 number");
      if ((b[this.pos++] & 0x80) === 0) return;
    }
    this.fail(`LEB128 number longer than ${max} bytes`, this.pos - 1);
  }

  /** Reads a signed 33-bit LEB as a number (block types, heap types). */
  s33(): number {
    const b = this.bytes;
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) this.fail("unexpected end of the code in a LEB128 number");
      const byte = b[this.pos++];
      result += (byte & 0x7f) * mult;
      mult *= 128;
      if ((byte & 0x80) === 0) {
        if (byte & 0x40) result -= mult;
        return result;
      }
    }
    return this.fail("LEB128 number longer than 5 bytes", this.pos - 1);
  }

  index(kind: number): number {
    const at = this.pos;
    const v = this.u32();
    if (this.mask & (1 << kind)) this.onImm!(kind, v, at, this.pos - at, this.op);
    return v;
  }

  heapType(): void {
    const b = this.bytes[this.pos];
    if (b >= 0x69 && b <= 0x74) {
      this.pos++;
      this.onType?.(b);
      return;
    }
    const at = this.pos;
    const v = this.s33();
    if (v < 0) this.fail(`invalid heap type ${v}`, at);
    this.onType?.(0x63);
    if (this.mask & TYPE_BIT) this.onImm!(Imm.type, v, at, this.pos - at, this.op);
  }

  valType(): void {
    const at = this.pos;
    const b = this.u8();
    if (b === 0x63 || b === 0x64) {
      this.onType?.(b);
      this.heapType();
    } else if ((b >= 0x69 && b <= 0x7f) && b !== 0x78 && b !== 0x77) {
      this.onType?.(b);
    } else this.fail(`invalid value type 0x${b.toString(16)}`, at);
  }

  blockType(): void {
    const b = this.bytes[this.pos];
    if (b === 0x40) {
      this.pos++;
    } else if (b === 0x63 || b === 0x64 || (b >= 0x69 && b <= 0x7f)) {
      this.valType();
    } else {
      const at = this.pos;
      const v = this.s33();
      if (v < 0) this.fail(`invalid block type ${v}`, at);
      if (this.mask & TYPE_BIT) this.onImm!(Imm.type, v, at, this.pos - at, this.op);
    }
  }

  memarg(): void {
    const align = this.u32();
    if (align & 0x40) this.index(Imm.memory);
    this.skipLeb(10);
  }

  run(withLocals: boolean): void {
    if (withLocals) {
      const groups = this.u32();
      for (let i = 0; i < groups; i++) {
        const count = this.u32();
        const at = this.pos;
        this.valType();
        this.onLocals?.(count, this.bytes[at]);
      }
    }
    const bytes = this.bytes;
    const end = this.end;
    while (this.pos < end) {
      const at = this.pos;
      const op = bytes[this.pos++];
      this.op = op;
      let sub = -1;
      switch (op) {
        case 0x10: // call
        case 0x12: // return_call
        case 0xd2: // ref.func
          this.index(Imm.func);
          break;
        case 0x23: // global.get
        case 0x24: // global.set
          this.index(Imm.global);
          break;
        case 0x25: // table.get
        case 0x26: // table.set
          this.index(Imm.table);
          break;
        case 0x20: // local.get
        case 0x21: // local.set
        case 0x22: // local.tee
          this.index(Imm.local);
          break;
        case 0x02: // block
        case 0x03: // loop
        case 0x04: // if
        case 0x06: // try (legacy exceptions)
          this.blockType();
          break;
        case 0x07: // catch
        case 0x08: // throw
          this.index(Imm.tag);
          break;
        case 0x09: // rethrow
        case 0x0c: // br
        case 0x0d: // br_if
        case 0x18: // delegate
        case 0xd5: // br_on_null
        case 0xd6: // br_on_non_null
          this.index(Imm.label);
          break;
        case 0x14: // call_ref
        case 0x15: // return_call_ref
          this.index(Imm.type);
          break;
        case 0x3f: // memory.size
        case 0x40: // memory.grow
          this.index(Imm.memory);
          break;
        case 0x0e: { // br_table
          const n = this.u32();
          if (n > end - this.pos) this.fail(`br_table with ${n} targets runs past the code`);
          for (let i = 0; i <= n; i++) this.index(Imm.label);
          break;
        }
        case 0x11: // call_indirect
        case 0x13: // return_call_indirect
          this.index(Imm.type);
          this.index(Imm.table);
          break;
        case 0x1c: { // select t*
          const n = this.u32();
          for (let i = 0; i < n; i++) this.valType();
          break;
        }
        case 0x1f: { // try_table
          this.blockType();
          const n = this.u32();
          for (let i = 0; i < n; i++) {
            const kind = this.u8();
            if (kind === 0 || kind === 1) this.index(Imm.tag);
            else if (kind > 3) this.fail(`invalid catch kind ${kind}`, this.pos - 1);
            this.index(Imm.label);
          }
          break;
        }
        case 0x41:
          this.skipLeb(5);
          break;
        case 0x42:
          this.skipLeb(10);
          break;
        case 0x43:
          this.pos += 4;
          break;
        case 0x44:
          this.pos += 8;
          break;
        case 0xd0: // ref.null
          this.heapType();
          break;
        case 0xfc:
          sub = this.u32();
          this.prefixFC(sub, at);
          break;
        case 0xfd:
          sub = this.u32();
          this.prefixFD(sub);
          break;
        case 0xfe:
          sub = this.u32();
          if (sub === 0x03) this.u8();
          else this.memarg();
          break;
        case 0xfb:
          sub = this.u32();
          this.prefixFB(sub, at);
          break;
        default:
          if (op >= 0x28 && op <= 0x3e) this.memarg();
          else if (!isPlain(op)) this.fail(`unknown opcode 0x${op.toString(16)}`, at);
      }
      if (this.pos > end) this.fail("instruction runs past the end of the code", at);
      this.onInstr?.(op, sub, at, this.pos);
    }
  }

  prefixFC(sub: number, at: number): void {
    if (sub <= 7) return; // saturating truncations
    switch (sub) {
      case 8: // memory.init data mem
        this.index(Imm.data);
        this.index(Imm.memory);
        return;
      case 9: // data.drop
        this.index(Imm.data);
        return;
      case 10: // memory.copy
        this.index(Imm.memory);
        this.index(Imm.memory);
        return;
      case 11: // memory.fill
        this.index(Imm.memory);
        return;
      case 12: // table.init elem table
        this.index(Imm.elem);
        this.index(Imm.table);
        return;
      case 13: // elem.drop
        this.index(Imm.elem);
        return;
      case 14: // table.copy dst src
        this.index(Imm.table);
        this.index(Imm.table);
        return;
      case 15: // table.grow
      case 16: // table.size
      case 17: // table.fill
        this.index(Imm.table);
        return;
      case 19: // i64.add128 etc. (wide arithmetic)
      case 20:
      case 21:
      case 22:
        return;
      default:
        this.fail(`unknown instruction 0xfc ${sub}`, at);
    }
  }

  prefixFD(sub: number): void {
    if (sub <= 11 || sub === 92 || sub === 93) this.memarg();
    else if (sub === 12 || sub === 13) this.pos += 16;
    else if (sub >= 21 && sub <= 34) this.pos++;
    else if (sub >= 84 && sub <= 91) {
      this.memarg();
      this.pos++;
    }
  }

  prefixFB(sub: number, at: number): void {
    switch (sub) {
      case 0: // struct.new
      case 1: // struct.new_default
      case 6: // array.new
      case 7: // array.new_default
      case 11: // array.get
      case 12:
      case 13:
      case 14: // array.set
      case 16: // array.fill
        this.index(Imm.type);
        return;
      case 2: // struct.get
      case 3:
      case 4:
      case 5: // struct.set
        this.index(Imm.type);
        this.u32();
        return;
      case 8: // array.new_fixed
        this.index(Imm.type);
        this.u32();
        return;
      case 9: // array.new_data
      case 18: // array.init_data
        this.index(Imm.type);
        this.index(Imm.data);
        return;
      case 10: // array.new_elem
      case 19: // array.init_elem
        this.index(Imm.type);
        this.index(Imm.elem);
        return;
      case 17: // array.copy
        this.index(Imm.type);
        this.index(Imm.type);
        return;
      case 15: // array.len
      case 26: // any.convert_extern
      case 27: // extern.convert_any
      case 28: // ref.i31
      case 29: // i31.get_s
      case 30: // i31.get_u
        return;
      case 20: // ref.test
      case 21: // ref.test null
      case 22: // ref.cast
      case 23: // ref.cast null
        this.heapType();
        return;
      case 24: // br_on_cast
      case 25: { // br_on_cast_fail
        this.u8();
        this.index(Imm.label);
        this.heapType();
        this.heapType();
        return;
      }
      default:
        this.fail(`unknown instruction 0xfb ${sub}`, at);
    }
  }
}

function isPlain(op: number): boolean {
  return op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f ||
    op === 0x19 || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) ||
    (op >= 0xd1 && op <= 0xd4);
}
