/**
 * A function-body decoder that knows the immediate shape of every instruction, so it can find
 * the function, table, global and type indices a relocatable object must patch, and re-encode
 * them as 5-byte padded LEBs.
 * @module
 */
import { ByteReader, ByteWriter } from "./bytes.ts";
import { valType } from "./types.ts";

/** An index immediate inside a body. */
export interface IndexImmediate {
  /** The index space it refers to. */
  kind: "func" | "table" | "type" | "global";
  /** Offset of the LEB inside the body. */
  offset: number;
  /** Length of the LEB in bytes (5 when padded for relocation). */
  length: number;
  /** The index. */
  value: number;
}

/** An instruction that takes an index (see `INDEXED` in rwat.ts), with its index immediates. */
export interface IndexedInstruction {
  /** The instruction's text name (`call`, `global.get`, ...). */
  name: string;
  /** Offset of its opcode inside the body. */
  offset: number;
  /** Its index immediates, in order. */
  immediates: IndexImmediate[];
  /** Offset of the instruction just before this one in the body, or -1 for the first. */
  previous: number;
}

/** The result of scanning one body. */
export interface BodyScan {
  /** Index-taking instructions in order. */
  instructions: IndexedInstruction[];
  /** Type indices used as block types (multi-value blocks); always relocated. */
  blockTypes: IndexImmediate[];
}

const SIMPLE: Record<number, string> = {
  0x10: "call",
  0x12: "return_call",
  0xd2: "ref.func",
  0x23: "global.get",
  0x24: "global.set",
  0x25: "table.get",
  0x26: "table.set",
};

/** Scans a function body (locals included). Throws a WasmParseError on malformed code. */
export function scanBody(body: Uint8Array): BodyScan {
  const r = new ByteReader(body);
  const out: BodyScan = { instructions: [], blockTypes: [] };
  r.vec(() => {
    r.u32();
    valType(r);
  });
  const index = (kind: IndexImmediate["kind"]): IndexImmediate => {
    const offset = r.pos;
    const value = r.u32();
    return { kind, offset, length: r.pos - offset, value };
  };
  let previous = -1;
  let current = -1;
  const push = (name: string, offset: number, ...immediates: IndexImmediate[]) =>
    out.instructions.push({ name, offset, immediates, previous });
  const blockType = () => {
    const b = r.bytes[r.pos];
    if (b === 0x40 || (b >= 0x69 && b <= 0x7f && b !== 0x63 && b !== 0x64)) {
      r.pos++;
    } else if (b === 0x63 || b === 0x64) {
      valType(r);
    } else {
      const offset = r.pos;
      const value = Number(r.s64());
      if (value < 0) r.fail(`Invalid block type ${value}`, offset);
      out.blockTypes.push({ kind: "type", offset, length: r.pos - offset, value });
    }
  };
  const memarg = () => {
    const align = r.u32();
    if (align & 0x40) r.u32();
    r.u64();
  };
  const heapType = () => {
    const b = r.bytes[r.pos];
    if (b >= 0x69 && b <= 0x74) r.pos++;
    else r.s64();
  };
  while (!r.done) {
    const at = r.pos;
    previous = current;
    current = at;
    const op = r.u8();
    if (SIMPLE[op]) {
      const kind = op === 0x10 || op === 0x12 || op === 0xd2
        ? "func"
        : op === 0x23 || op === 0x24
        ? "global"
        : "table";
      push(SIMPLE[op], at, index(kind));
      continue;
    }
    switch (op) {
      case 0x02: // block
      case 0x03: // loop
      case 0x04: // if
      case 0x06: // try (legacy exceptions)
        blockType();
        break;
      case 0x07: // catch
      case 0x08: // throw
      case 0x09: // rethrow
      case 0x0c: // br
      case 0x0d: // br_if
      case 0x14: // call_ref
      case 0x15: // return_call_ref
      case 0x18: // delegate
      case 0x20: // local.get
      case 0x21: // local.set
      case 0x22: // local.tee
      case 0x3f: // memory.size
      case 0x40: // memory.grow
      case 0xd5: // br_on_null
      case 0xd6: // br_on_non_null
        r.u32();
        break;
      case 0x0e: // br_table
        r.vec(() => r.u32());
        r.u32();
        break;
      case 0x11: // call_indirect
      case 0x13: // return_call_indirect
        push(
          op === 0x11 ? "call_indirect" : "return_call_indirect",
          at,
          index("type"),
          index("table"),
        );
        break;
      case 0x1c: // select t*
        r.vec(() => valType(r));
        break;
      case 0x1f: // try_table
        blockType();
        r.vec(() => {
          const kind = r.u8();
          if (kind === 0 || kind === 1) r.u32();
          r.u32();
        });
        break;
      case 0x41:
        r.s32();
        break;
      case 0x42:
        r.s64();
        break;
      case 0x43:
        r.take(4);
        break;
      case 0x44:
        r.take(8);
        break;
      case 0xd0: // ref.null
        heapType();
        break;
      case 0xfc:
        prefixFC(r, at, index, push);
        break;
      case 0xfd:
        prefixFD(r, memarg);
        break;
      case 0xfe: {
        const sub = r.u32();
        if (sub === 0x03) r.u8();
        else memarg();
        break;
      }
      case 0xfb:
        r.fail("GC instructions (0xfb prefix) are not supported in rwat objects", at);
        break;
      default:
        if (op >= 0x28 && op <= 0x3e) memarg();
        else if (!isPlain(op)) r.fail(`Unknown opcode 0x${op.toString(16)}`, at);
    }
  }
  return out;
}

function isPlain(op: number): boolean {
  return op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f ||
    op === 0x19 || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) ||
    (op >= 0xd1 && op <= 0xd4);
}

function prefixFC(
  r: ByteReader,
  at: number,
  index: (kind: IndexImmediate["kind"]) => IndexImmediate,
  push: (name: string, offset: number, ...imms: IndexImmediate[]) => void,
): void {
  const sub = r.u32();
  if (sub <= 7) return; // saturating truncations
  switch (sub) {
    case 8: // memory.init data mem
      r.u32();
      r.u32();
      return;
    case 9: // data.drop
    case 11: // memory.fill
    case 13: // elem.drop
      r.u32();
      return;
    case 10: // memory.copy
      r.u32();
      r.u32();
      return;
    case 12: // table.init elem table
      r.u32();
      push("table.init", at, index("table"));
      return;
    case 14: // table.copy dst src
      push("table.copy", at, index("table"), index("table"));
      return;
    case 15:
      push("table.grow", at, index("table"));
      return;
    case 16:
      push("table.size", at, index("table"));
      return;
    case 17:
      push("table.fill", at, index("table"));
      return;
    default:
      r.fail(`Unknown instruction 0xfc ${sub}`, at);
  }
}

function prefixFD(r: ByteReader, memarg: () => void): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) memarg();
  else if (sub === 12 || sub === 13) r.take(16);
  else if (sub >= 21 && sub <= 34) r.u8();
  else if (sub >= 84 && sub <= 91) {
    memarg();
    r.u8();
  }
}

/** A relocation to emit: an immediate of a body and what it points at. */
export interface Patch {
  immediate: IndexImmediate;
  /** Relocation type (RelocType) and index (symbol index, or type index for TYPE_INDEX_LEB). */
  type: number;
  index: number;
}

/**
 * Re-encodes a body with each patched immediate as a 5-byte padded LEB. Returns the new body and
 * the new offsets of the patched immediates (same order as `patches`).
 */
export function padBody(
  body: Uint8Array,
  patches: Patch[],
): { body: Uint8Array; offsets: number[] } {
  const sorted = patches.map((p, i) => ({ p, i })).sort((a, b) =>
    a.p.immediate.offset - b.p.immediate.offset
  );
  const w = new ByteWriter();
  const offsets: number[] = new Array(patches.length);
  let pos = 0;
  for (const { p, i } of sorted) {
    const imm = p.immediate;
    w.bytes(body.subarray(pos, imm.offset));
    offsets[i] = w.length;
    const v = imm.value;
    w.byte(v | 0x80).byte((v >>> 7) | 0x80).byte((v >>> 14) | 0x80).byte((v >>> 21) | 0x80)
      .byte(v >>> 28);
    pos = imm.offset + imm.length;
  }
  w.bytes(body.subarray(pos));
  return { body: w.finish(), offsets };
}
