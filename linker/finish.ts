/**
 * The last step of a link, as js-bindgen's linker does it: the JS of the imports the linked module
 * kept goes into `js_bindgen.js_output`, preceded by the empty markers `js_bindgen.is_compat`
 * (unless `--web`) and `js_bindgen.is_test` (a libtest harness, unless `--web`), and linkpass
 * signs the `producers` section under `processed-by`. The records linkpass consumed
 * (`js_bindgen.*` but `js_bindgen.test`, and `linkpass.*`) were stripped before.
 * @module
 */
import { basename } from "node:path";
import { GlueError } from "../errors.ts";
import {
  encodeJsOutput,
  IS_COMPAT_SECTION,
  IS_TEST_SECTION,
  JS_OUTPUT_SECTION,
} from "../glue/js_output.ts";
import type { JsName, JsRecord } from "../glue/records.ts";
import { type Selection, selectJs } from "../glue/select.ts";
import { ByteWriter } from "../wasm/bytes.ts";
import { readProducers } from "../wasm/custom.ts";
import type { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";

/** linkpass's version, as it signs modules (`processed-by`); deno.json's `version`. */
export const LINKPASS_VERSION = "0.1.0";

/** Sections linkpass removes after the link: what it consumed, and what it writes anew. */
export const CONSUMED_SECTIONS = ["js_bindgen.*", "linkpass.*"];
/** ...except the tests, which the runner reads. */
export const KEPT_SECTIONS = ["js_bindgen.test"];

/** True for an input that makes the link a `cargo test` harness (js-bindgen's rule). */
export function isLibtestInput(path: string): boolean {
  return basename(path).startsWith("libtest-");
}

/** Options of {@linkcode finishModule}. */
export interface FinishOptions {
  /** Every import and embed record of the inputs. */
  records: JsRecord[];
  /** The main memory's import. */
  mainMemory: JsName;
  /** js-bindgen's `--web`: no `is_compat`, no `is_test`. */
  web: boolean;
  /** An input was a libtest rlib. */
  isTest: boolean;
}

/**
 * Appends the js-bindgen sections to a linked module (see the module documentation) and returns
 * the selection. Throws {@linkcode GlueError} for conflicting records and missing embeds.
 *
 * @example Sections after the link, as js-bindgen writes them
 * ```ts
 * import assert from "node:assert";
 * import { finishModule } from "./finish.ts";
 * import { WasmModule } from "../wasm/module.ts";
 * const module = WasmModule.empty();
 * finishModule(module, {
 *   records: [],
 *   mainMemory: { module: "js_bindgen", name: "memory" },
 *   web: false,
 *   isTest: true,
 * });
 * assert.deepStrictEqual(module.customSections().map((s) => s.name), [
 *   "js_bindgen.is_compat",
 *   "js_bindgen.is_test",
 *   "js_bindgen.js_output",
 * ]);
 * ```
 */
export function finishModule(module: WasmModule, options: FinishOptions): Selection {
  const selection = selectJs(options.records, readImports(module), options.mainMemory);
  if (selection.problems.length) throw new GlueError(selection.problems);
  signProducers(module);
  if (!options.web) module.addCustomSection(IS_COMPAT_SECTION, new Uint8Array());
  if (options.isTest && !options.web) module.addCustomSection(IS_TEST_SECTION, new Uint8Array());
  module.addCustomSection(JS_OUTPUT_SECTION, encodeJsOutput(selection.output));
  return selection;
}

/**
 * Adds `linkpass <version>` under `processed-by` in the `producers` section (the field is added
 * when missing). A module without a `producers` section is left without one, as js-bindgen does.
 */
export function signProducers(module: WasmModule): void {
  const section = module.section("producers");
  const producers = readProducers(module);
  if (!section || !producers) return;
  const processedBy = producers["processed-by"] ??= [];
  const mine = processedBy.find((p) => p.name === "linkpass");
  if (mine) mine.version = LINKPASS_VERSION;
  else processedBy.push({ name: "linkpass", version: LINKPASS_VERSION });
  const w = new ByteWriter();
  const fields = Object.entries(producers);
  w.u32(fields.length);
  for (const [field, values] of fields) {
    w.name(field).u32(values.length);
    for (const v of values) w.name(v.name).name(v.version);
  }
  module.setPayload(section, w.finish());
}
