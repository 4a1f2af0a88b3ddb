/**
 * The `js_bindgen.js_output` custom section that js-bindgen's linker writes (FORMATS.md): the
 * main memory's import and the JS of every import and embed the linked module needs, encoded with
 * postcard (fields in order, strings and map lengths as LEB128 varints). linkpass writes the same
 * section, and reads it from modules either linker produced.
 * @module
 */
import { ByteReader, ByteWriter } from "../wasm/bytes.ts";
import { WasmParseError } from "../wasm/errors.ts";
import type { WasmModule } from "../wasm/module.ts";
import type { JsName } from "./records.ts";

/** The section name. */
export const JS_OUTPUT_SECTION = "js_bindgen.js_output";
/** Empty marker: the module targets js-bindgen's compatibility mode (absent with `--web`). */
export const IS_COMPAT_SECTION = "js_bindgen.is_compat";
/** Empty marker: the module is a `cargo test` harness (an input was `libtest-*`). */
export const IS_TEST_SECTION = "js_bindgen.is_test";

/** JS by module, then by name. */
export type JsByName = Map<string, Map<string, string>>;

/** What the section holds. */
export interface JsOutput {
  /** The main memory's import (`name` is empty when `--import-memory=module` gave none). */
  mainMemory: JsName;
  /** The JS expression of each import the linked module kept. */
  jsImport: JsByName;
  /** The JS expression of each embed those imports need. */
  jsEmbed: JsByName;
}

/** Adds `js` under module/name (a map of maps). */
export function setJs(map: JsByName, module: string, name: string, js: string): void {
  let names = map.get(module);
  if (!names) map.set(module, names = new Map());
  names.set(name, js);
}

/**
 * Encodes the section payload. Maps are written sorted by key, so the same output gives the same
 * bytes (js-bindgen writes its hash order; readers must not depend on the order).
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert";
 * import { decodeJsOutput, encodeJsOutput, setJs, type JsOutput } from "./js_output.ts";
 * const output: JsOutput = {
 *   mainMemory: { module: "js_bindgen", name: "memory" },
 *   jsImport: new Map(),
 *   jsEmbed: new Map(),
 * };
 * setJs(output.jsImport, "env", "now", "() => Date.now()");
 * assert.deepStrictEqual(decodeJsOutput(encodeJsOutput(output)), output);
 * ```
 */
export function encodeJsOutput(output: JsOutput): Uint8Array {
  const w = new ByteWriter();
  w.name(output.mainMemory.module).name(output.mainMemory.name);
  for (const map of [output.jsImport, output.jsEmbed]) {
    const modules = [...map.keys()].sort();
    w.u32(modules.length);
    for (const module of modules) {
      const names = map.get(module)!;
      w.name(module).u32(names.size);
      for (const name of [...names.keys()].sort()) w.name(name).name(names.get(name)!);
    }
  }
  return w.finish();
}

/**
 * Decodes the section payload; `offset` is its file offset, for errors. Malformed bytes throw a
 * WasmParseError at their offset.
 */
export function decodeJsOutput(payload: Uint8Array, offset = 0): JsOutput {
  const r = new ByteReader(payload, offset);
  const str = (what: string) => {
    // A postcard string is a usize varint length; lengths past u32 are not real modules.
    const at = r.pos;
    const len = r.u32();
    if (len > payload.length - r.pos) {
      r.fail(`the ${what} (${len} bytes) runs past the end of "${JS_OUTPUT_SECTION}"`, at);
    }
    r.pos = at;
    return r.name(what);
  };
  const mainMemory = { module: str("main memory module"), name: str("main memory name") };
  const map = (what: string): JsByName => {
    const out: JsByName = new Map();
    const modules = r.u32();
    for (let i = 0; i < modules; i++) {
      const module = str(`${what} module`);
      const names = out.get(module) ?? new Map<string, string>();
      out.set(module, names);
      const count = r.u32();
      for (let j = 0; j < count; j++) {
        const name = str(`${what} name`);
        names.set(name, str(`${what} JS`));
      }
    }
    return out;
  };
  const jsImport = map("import");
  const jsEmbed = map("embed");
  if (!r.done) {
    r.fail(`${payload.length - r.pos} bytes left over after the JS output`);
  }
  return { mainMemory, jsImport, jsEmbed };
}

/** Reads the module's `js_bindgen.js_output`, or undefined when it has none. */
export function readJsOutput(module: WasmModule): JsOutput | undefined {
  const section = module.customSections(JS_OUTPUT_SECTION).at(-1);
  if (!section) return undefined;
  try {
    return decodeJsOutput(section.payload, Math.max(0, section.payloadOffset));
  } catch (e) {
    if (e instanceof WasmParseError) e.file ??= module.file;
    throw e;
  }
}
