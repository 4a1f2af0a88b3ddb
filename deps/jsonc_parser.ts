/**
 * jsonc-parser (reads `deno.jsonc`: comments and trailing commas, as VS Code does).
 * @module
 */
export * from "npm:jsonc-parser@3.3.1";
