/**
 * astring (prints the generated glue from its ESTree).
 * @module
 */
export * from "npm:astring@1.9.0";
