/**
 * A function-body decoder that knows the immediate shape of every instruction, so it can find
 * the function, table, global and type indices a relocatable object must patch, and re-encode
 * them as 5-byte padded LEBs.
 * @module
 */
import { ByteWriter } from "./bytes.ts";
import { WasmParseError } from "./errors.ts";
import { decodeInstructions, Imm } from "./instructions.ts";

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

/** Names of the index-taking instructions scanBody reports, by opcode (0xfc ones by sub-opcode). */
const NAMES: Record<number, string> = {
  0x10: "call",
  0x11: "call_indirect",
  0x12: "return_call",
  0x13: "return_call_indirect",
  0xd2: "ref.func",
  0x23: "global.get",
  0x24: "global.set",
  0x25: "table.get",
  0x26: "table.set",
};
const FC_NAMES: Record<number, string> = {
  12: "table.init",
  14: "table.copy",
  15: "table.grow",
  16: "table.size",
  17: "table.fill",
};
const KINDS: Record<number, IndexImmediate["kind"]> = {
  [Imm.func]: "func",
  [Imm.table]: "table",
  [Imm.type]: "type",
  [Imm.global]: "global",
};
const BLOCKS = new Set([0x02, 0x03, 0x04, 0x06, 0x1f]);

/**
 * Scans a function body (locals included) with the shared instruction decoder. Throws a
 * WasmParseError on malformed code; GC instructions are refused (rwat objects have none).
 */
export function scanBody(body: Uint8Array): BodyScan {
  const out: BodyScan = { instructions: [], blockTypes: [] };
  let immediates: IndexImmediate[] = [];
  let previous = -1;
  decodeInstructions(body, 0, body.length, true, {
    immediate(kind, value, offset, length, op) {
      const k = KINDS[kind];
      if (!k) return;
      const imm = { kind: k, offset, length, value };
      if (k === "type" && BLOCKS.has(op)) out.blockTypes.push(imm);
      else immediates.push(imm);
    },
    instruction(op, sub, start) {
      if (op === 0xfb) {
        throw new WasmParseError(
          "GC instructions (0xfb prefix) are not supported in rwat objects",
          start,
        );
      }
      const name = op === 0xfc ? FC_NAMES[sub] : NAMES[op];
      if (name) {
        // table.init names an element segment first: only its table is an index to relocate
        out.instructions.push({ name, offset: start, immediates, previous });
      }
      immediates = [];
      previous = start;
    },
  });
  return out;
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
