/**
 * JS glue from the snippets crates embed (`@linkpass/linkpass/glue`): the record format of the
 * `js_bindgen.import`/`js_bindgen.embed` custom sections and the generator of the ES module and
 * its `.d.ts`.
 * @module
 */
export {
  generateGlue,
  type Glue,
  glueFromJsOutput,
  type GlueOptions,
  type GlueReport,
  renderGlue,
} from "./generate.ts";
export {
  decodeJsOutput,
  encodeJsOutput,
  IS_COMPAT_SECTION,
  IS_TEST_SECTION,
  JS_OUTPUT_SECTION,
  type JsByName,
  type JsOutput,
  readJsOutput,
} from "./js_output.ts";
export { type Selection, selectJs } from "./select.ts";
export {
  EMBED_SECTION,
  encodeJsRecord,
  IMPORT_SECTION,
  type JsName,
  type JsRecord,
  readJsRecords,
} from "./records.ts";
