/**
 * The rwat assembler: WAT with `(@sym)`/`(@reloc)` annotations → a relocatable object file, in
 * process. wabt.js parses and validates the plain text; the relocatable layer (symbol table,
 * `reloc.CODE`, padded immediates) is linkpass's own.
 *
 * @example Assemble one `js_bindgen.wat` record
 * ```ts
 * import assert from "node:assert";
 * import { assembleFragment } from "./mod.ts";
 * const object = await assembleFragment(`
 *   (func $answer (@sym (name "example.answer")) (result i32)
 *     i32.const 42)`);
 * assert.ok(object[0] === 0 && object[1] === 0x61);
 * ```
 * @module
 */
import { importWabt, type WabtInit } from "../deps/wabt.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { AsmError, type AsmLocation, AssemblerBug } from "../errors.ts";
import { codeFrame, lineColumn, offsetOfByteColumn } from "./errors.ts";
import { buildObject } from "./object.ts";
import { foldFlatOperands, insertText } from "./desugar.ts";
import { analyseModule } from "./rwat.ts";
import { blankSpans, headOf, type List, type Node, readSexprs, SexprError } from "./sexpr.ts";

export { AsmError, type AsmLocation, AssemblerBug };

/** Options of {@linkcode assembleFragment} and {@linkcode assembleModule}. */
export interface AssembleOptions extends AsmLocation {
  /**
   * `wasm64` prepends `(import "env" "__linear_memory" (memory i64 0))`, as wasm-ld requires;
   * wasm32 (the default) imports `(memory 0)` there when the text declares no memory.
   */
  target?: "wasm32" | "wasm64";
}

/** Version of the assembler's output format; part of the linker's cache key. */
export const ASSEMBLER_VERSION = "linkpass-asm 1 (wabt 1.0.39)";

/**
 * The memory import an object gets, as LLVM's objects have it: always for wasm64 (wasm-ld needs
 * a 64-bit memory in every object), for wasm32 when the text declares no memory (so memory
 * instructions validate; wasm-ld maps it to the output's memory).
 */
function memoryImport(fields: Node[], target: AssembleOptions["target"]): string | undefined {
  if (target === "wasm64") return '(import "env" "__linear_memory" (memory i64 0))';
  const declares = fields.some((n) =>
    n.type === "list" && (headOf(n) === "memory" ||
      (headOf(n) === "import" && n.items[3]?.type === "list" && headOf(n.items[3]) === "memory"))
  );
  return declares ? undefined : '(import "env" "__linear_memory" (memory 0))';
}

const FEATURES = {
  exceptions: true,
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  simd: true,
  threads: true,
  multi_value: true,
  tail_call: true,
  bulk_memory: true,
  reference_types: true,
  annotations: true,
  memory64: true,
  extended_const: true,
  relaxed_simd: true,
};

type Wabt = Awaited<ReturnType<WabtInit>>;
let wabtPromise: Promise<Wabt> | undefined;

/** Loads wabt.js once (about 20 ms); later calls share it. */
function loadWabt(): Promise<Wabt> {
  wabtPromise ??= importWabt().then((init) => init());
  return wabtPromise;
}

/** The text handed to the parser and how its offsets map back to the user's text. */
interface Source {
  /** What the user wrote (the fragment, or the whole module). */
  original: string;
  /** The text that is parsed: `original` with a wrapper or an inserted import. */
  text: string;
  /** Offsets in `text` → offsets in `original`. */
  toOriginal(offset: number): number;
}

/**
 * Assembles one `js_bindgen.wat` record (module fields without `(module ...)`) into a relocatable
 * object, as `(module (@rwat) FRAGMENT)`. Throws {@linkcode AsmError} for bad input.
 */
export async function assembleFragment(
  fragment: string,
  options: AssembleOptions = {},
): Promise<Uint8Array> {
  // Tokenize the fragment alone first, so an extra `)` is reported where it stands rather than
  // where it closes the wrapper.
  const nodes = guard(
    { original: fragment, text: fragment, toOriginal: (o) => o },
    options,
    () => readSexprs(fragment),
  );
  const whole = nodes.find((n) => n.type === "list" && headOf(n) === "module");
  if (whole) {
    throw errorAt(
      { original: fragment, text: fragment, toOriginal: (o) => o },
      options,
      "A js_bindgen.wat record holds module fields, not a whole `(module ...)`: drop the wrapper (or assemble it with assembleModule / `linkpass asm` without --fragment)",
      whole.start,
      "(module".length,
    );
  }
  const memory = memoryImport(nodes, options.target);
  const head = `(module (@rwat)${memory ? ` ${memory}` : ""}\n`;
  const text = `${head}${fragment}\n)`;
  const source: Source = {
    original: fragment,
    text,
    toOriginal: (o) => Math.min(Math.max(0, o - head.length), fragment.length),
  };
  return await assemble(source, options, false);
}

/**
 * Assembles a whole `(module (@rwat) ...)` text into a relocatable object (`linkpass asm`).
 * Throws {@linkcode AsmError} for bad input.
 *
 * @example Assemble a module with an undefined and a defined symbol
 * ```ts
 * import assert from "node:assert";
 * import { assembleModule } from "./mod.ts";
 * const object = await assembleModule(`(module (@rwat)
 *   (import "env" "log" (func $log (@sym) (param i32)))
 *   (func $hello (@sym) (call $log (@reloc) (i32.const 1))))`);
 * assert.ok(object.length > 8);
 * ```
 */
export async function assembleModule(
  wat: string,
  options: AssembleOptions = {},
): Promise<Uint8Array> {
  let source: Source = { original: wat, text: wat, toOriginal: (o) => o };
  const nodes = guard(source, options, () => readSexprs(wat));
  const module = nodes.find((n) => n.type === "list") as List | undefined;
  const memory = memoryImport(module?.items ?? [], options.target);
  if (memory) {
    // Insert the memory import right after the `(@rwat)` header (or `(module`).
    let at = module ? module.start + 1 + "module".length : 0;
    const header = module?.items.find((n) => n.type === "list" && n.annotation === "rwat");
    if (header) at = header.end;
    const rewritten = insertText(wat, [{ at, text: ` ${memory}` }]);
    source = { original: wat, text: rewritten.text, toOriginal: rewritten.toBefore };
  }
  return await assemble(source, options, true);
}

/** A WAT fragment to check, with where it came from. */
export interface WatFragment extends AsmLocation {
  /** The fragment: module fields without `(module ...)`. */
  text: string;
}

/**
 * Assembles every fragment without linking and returns all errors (empty when every fragment
 * assembles). Bugs of the assembler are rethrown, not returned.
 *
 * @example Check two records
 * ```ts
 * import assert from "node:assert";
 * import { checkWatFragments } from "./mod.ts";
 * const errors = await checkWatFragments([
 *   { text: "(func $ok (@sym))", file: "a.o", record: 1 },
 *   { text: "(func $bad (@sym) call $missing (@reloc))", file: "a.o", record: 2 },
 * ]);
 * assert.ok(errors.length === 1 && errors[0].record === 2);
 * ```
 */
export async function checkWatFragments(
  fragments: Iterable<WatFragment>,
  options: { target?: "wasm32" | "wasm64" } = {},
): Promise<AsmError[]> {
  const errors: AsmError[] = [];
  for (const { text, ...where } of fragments) {
    try {
      await assembleFragment(text, { ...where, target: options.target });
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      errors.push(e);
    }
  }
  return errors;
}

function errorAt(source: Source, where: AsmLocation, detail: string, offset: number, length = 1) {
  const start = source.toOriginal(offset);
  const end = Math.max(start + 1, source.toOriginal(offset + length));
  const { line, column } = lineColumn(source.original, start);
  return new AsmError(detail, {
    ...where,
    line,
    column,
    frame: codeFrame(source.original, start, end - start),
  });
}

function guard<T>(source: Source, where: AsmLocation, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SexprError) throw errorAt(source, where, e.message, e.offset, e.length);
    throw e;
  }
}

async function assemble(
  source: Source,
  options: AssembleOptions,
  requireHeader: boolean,
): Promise<Uint8Array> {
  const where: AsmLocation = { file: options.file, member: options.member, record: options.record };
  const parse = (source: Source) =>
    guard(source, where, () => {
      const nodes = readSexprs(source.text);
      const module = nodes[0];
      if (nodes.length !== 1 || module.type !== "list" || headOf(module) !== "module") {
        const stray = nodes.length === 1 ? nodes[0] : nodes[1] ?? nodes[0];
        throw new SexprError(
          "Expected exactly one `(module (@rwat) ...)`",
          stray?.start ?? 0,
          stray ? stray.end - stray.start : 1,
        );
      }
      return module;
    });
  let module = parse(source);
  const inserts = foldFlatOperands(module);
  if (inserts.length) {
    const before = source;
    const rewritten = insertText(before.text, inserts);
    source = {
      original: before.original,
      text: rewritten.text,
      toOriginal: (o) => before.toOriginal(rewritten.toBefore(o)),
    };
    module = parse(source);
  }
  const info = guard(source, where, () => analyseModule(module, requireHeader));
  const plainText = blankSpans(source.text, info.annotations);
  const wabt = await loadWabt();
  let plain: Uint8Array;
  let parsed: ReturnType<Wabt["parseWat"]> | undefined;
  try {
    parsed = wabt.parseWat(where.file ?? "input.wat", plainText, FEATURES);
    parsed.resolveNames();
    parsed.validate();
    plain = parsed.toBinary({ write_debug_names: false }).buffer;
  } catch (e) {
    if (
      !(e instanceof Error) || !/^(parseWat|resolveNames|validate|toBinary) failed/.test(e.message)
    ) {
      throw e;
    }
    throw wabtError(source, plainText, where, e.message);
  } finally {
    parsed?.destroy();
  }
  try {
    return buildObject(plain, info);
  } catch (e) {
    if (e instanceof WasmParseError) {
      throw new AssemblerBug(`wabt wrote a module linkpass cannot read: ${e.message}`);
    }
    throw e;
  }
}

/** Turns wabt's `file:line:col: error: message` report into an AsmError at the first error. */
function wabtError(source: Source, text: string, where: AsmLocation, report: string): AsmError {
  const m = /:(\d+):(\d+): error: (.*)/.exec(report);
  if (!m) {
    const detail = report.split("\n").filter((l) => l.trim()).slice(1).join("; ") || report;
    return errorAt(source, where, detail, 0, 1);
  }
  const offset = offsetOfByteColumn(text, Number(m[1]), Number(m[2]));
  const token = /^[^\s()]+/.exec(text.slice(offset))?.[0].length ?? 1;
  const more = (report.match(/: error: /g)?.length ?? 1) - 1;
  const detail = m[3].replace(/\.$/, "") +
    (more ? ` (and ${more} more error${more > 1 ? "s" : ""})` : "");
  return errorAt(source, where, detail, offset, token);
}
