/**
 * A reference scanner for function bodies: walks every instruction of the code section once with
 * the shared decoder ({@linkcode decodeInstructions}) and reports only the references that keep
 * other items alive (calls, `ref.func`, `call_indirect`, globals, tables, data and element
 * segments). It allocates nothing per instruction: references go to a callback as plain numbers.
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import { decodeInstructions, Imm, type InstructionVisitor } from "../wasm/instructions.ts";

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

/** The immediates that matter here; locals, labels, memories and tags are not reported. */
const KINDS = 1 << Imm.func | 1 << Imm.global | 1 << Imm.type | 1 << Imm.table | 1 << Imm.data |
  1 << Imm.elem;

/**
 * Scans the bodies of the code section payload `code` (`[start, end)` of each body given by
 * `bodyStart`/`bodyEnd`) and calls `sink` for every reference; `onFunction(i)` runs before body
 * `i`. `base` is the file offset of `code[0]`, for errors. Malformed code throws a
 * {@linkcode WasmParseError} that names the body.
 *
 * @example List the calls of one body
 * ```ts
 * import assert from "node:assert";
 * import { Ref, scanBodies } from "./scan.ts";
 * // no locals; local.get 0; call 3; global.set 1; end
 * const code = new Uint8Array([0, 0x20, 0, 0x10, 3, 0x24, 1, 0x0b]);
 * const refs: number[][] = [];
 * scanBodies(code, Uint32Array.of(0), Uint32Array.of(code.length), 0, () => {}, (kind, index) => {
 *   refs.push([kind, index]);
 * });
 * assert.deepStrictEqual(refs, [[Ref.call, 3], [Ref.global, 1]]);
 * ```
 */
export function scanBodies(
  code: Uint8Array,
  bodyStart: Uint32Array,
  bodyEnd: Uint32Array,
  base: number,
  onFunction: (i: number) => void,
  sink: RefSink,
): void {
  // The type index of a `call_indirect` comes just before its table index.
  let type = 0;
  const visitor: InstructionVisitor = {
    kinds: KINDS,
    immediate(kind, value, _at, _length, op) {
      switch (kind) {
        case Imm.func:
          sink(op === 0xd2 ? Ref.refFunc : Ref.call, value, 0);
          break;
        case Imm.global:
          sink(Ref.global, value, 0);
          break;
        case Imm.type:
          type = value;
          break;
        case Imm.table:
          if (op === 0x11 || op === 0x13) sink(Ref.callIndirect, value, type);
          else sink(Ref.table, value, 0);
          break;
        case Imm.data:
          sink(Ref.data, value, 0);
          break;
        case Imm.elem:
          sink(Ref.elem, value, 0);
      }
    },
  };
  for (let f = 0; f < bodyStart.length; f++) {
    onFunction(f);
    try {
      decodeInstructions(code, bodyStart[f], bodyEnd[f], true, visitor, base);
    } catch (e) {
      if (!(e instanceof WasmParseError)) throw e;
      throw new WasmParseError(
        `${e.detail} in function body ${f}; the file is corrupt or uses a proposal linkpass does not know`,
        e.offset,
      );
    }
  }
}
