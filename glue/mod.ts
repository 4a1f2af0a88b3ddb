/**
 * JS glue from the snippets crates embed (`@linkpass/linkpass/glue`): the record format of the
 * `js_bindgen.import`/`js_bindgen.embed` custom sections and the generator of the ES module and
 * its `.d.ts`.
 * @module
 */
export { generateGlue, type Glue, type GlueOptions, type GlueReport } from "./generate.ts";
export {
  EMBED_SECTION,
  encodeJsRecord,
  IMPORT_SECTION,
  type JsName,
  type JsRecord,
  readJsRecords,
} from "./records.ts";
