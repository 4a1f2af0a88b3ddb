/**
 * acorn (parses the JS snippets of `js_bindgen.import`/`.embed` records).
 * @module
 */
export * from "npm:acorn@8.15.0";
