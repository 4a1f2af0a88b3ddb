/**
 * The linker's configuration: which post-link passes to run and which linker to call. Read from
 * the `linkpass` key of the nearest `deno.json`/`deno.jsonc` (searching up from the working
 * directory, as cargo runs the linker from the workspace root), or from the `LINKPASS_CONFIG`
 * environment variable (JSON text, or the path of a JSON file), which wins.
 *
 * ```json
 * { "linkpass": { "passes": { "panic": true, "strip-custom-sections": { "remove": ["debug"] } } } }
 * ```
 * A pass is `true` (its defaults), a value of its main option (`"panic": "hook"`), or an object of
 * its options by key, as the library's factories take them (`linkpass passes --json` lists them).
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { parse, type ParseError, printParseErrorCode } from "../deps/jsonc_parser.ts";

/** The `linkpass` configuration object. */
export interface LinkConfig {
  /**
   * Post-link passes by registry name: `true` (the defaults), a value for the pass's main option
   * (`"panic": "hook"`), or an object of options by key.
   */
  passes?: Record<string, unknown>;
  /**
   * Section passes run on every input object and Wasm archive member before the linker
   * (`panic` in trap mode, `strip-custom-sections`), written to cleaned copies in the output's
   * `.linkpass/` cache. `"passes": { "panic": true }` (trap mode) adds `panic` here too, unless
   * `"inputPasses": { "panic": false }`.
   */
  inputPasses?: Record<string, unknown>;
  /**
   * Link a second time without the input passes to measure what they removed (data and code
   * section bytes, and the post-link panic pass's dead-data estimate on that module); the numbers
   * go in the link result (`inputPasses.measured`). Costs one more linker run; default false.
   */
  measureInputPasses?: boolean;
  /** The linker to run (a path or a command on PATH). */
  linker?: string;
  /**
   * Write the `.js`/`.d.ts` glue next to the output (default true). The module's
   * `js_bindgen.js_output` section is written either way; `false` is the linker option
   * `--no-glue`.
   */
  glue?: boolean;
  /** Where the configuration came from, for messages. */
  source?: string;
}

/** `line:column` (1-based) of `offset` in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n");
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

/**
 * Parses JSON with comments and trailing commas (deno.jsonc) with a real JSONC parser (VS Code's
 * jsonc-parser): strings are never touched, so `"/\\.debug_[a-z]{1,}/"` stays as written.
 */
export function parseJsonc(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0];
    throw new UsageError(
      `Invalid JSONC in ${source} at ${lineColumn(text, e.offset)}: ${
        printParseErrorCode(e.error)
      }; fix the file (comments and trailing commas are allowed)`,
    );
  }
  return value;
}

function validate(value: unknown, source: string): LinkConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`Invalid linkpass configuration in ${source}: expected an object`);
  }
  const config = value as LinkConfig;
  if (config.linker !== undefined && typeof config.linker !== "string") {
    throw new UsageError(`Invalid linkpass configuration in ${source}: "linker" must be a string`);
  }
  if (config.glue !== undefined && typeof config.glue !== "boolean") {
    throw new UsageError(
      `Invalid linkpass configuration in ${source}: "glue" must be true or false`,
    );
  }
  if (config.measureInputPasses !== undefined && typeof config.measureInputPasses !== "boolean") {
    throw new UsageError(
      `Invalid linkpass configuration in ${source}: "measureInputPasses" must be true or false`,
    );
  }
  if (
    config.inputPasses !== undefined &&
    (typeof config.inputPasses !== "object" || config.inputPasses === null ||
      Array.isArray(config.inputPasses))
  ) {
    throw new UsageError(
      `Invalid linkpass configuration in ${source}: "inputPasses" must be an object of pass names, e.g. { "strip-custom-sections": "debug" }`,
    );
  }
  if (config.passes !== undefined) {
    if (
      typeof config.passes !== "object" || config.passes === null || Array.isArray(config.passes)
    ) {
      throw new UsageError(
        `Invalid linkpass configuration in ${source}: "passes" must be an object of pass names, e.g. { "panic": true }`,
      );
    }
  }
  return { ...config, source };
}

/**
 * Loads the configuration: `LINKPASS_CONFIG` when set, else the `linkpass` key of the nearest
 * deno.json(c) above `cwd`, else an empty configuration.
 */
export async function loadConfig(
  cwd: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<LinkConfig> {
  const fromEnv = env("LINKPASS_CONFIG");
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    const text = fromEnv.trimStart().startsWith("{")
      ? fromEnv
      : await Deno.readTextFile(resolve(cwd, fromEnv)).catch(() => {
        throw new UsageError(
          `Cannot read LINKPASS_CONFIG file "${fromEnv}": no such file; set it to JSON text or a JSON file`,
        );
      });
    try {
      return validate(JSON.parse(text), "LINKPASS_CONFIG");
    } catch (e) {
      if (e instanceof SyntaxError) {
        throw new UsageError(`Invalid JSON in LINKPASS_CONFIG: ${e.message}`);
      }
      throw e;
    }
  }
  let dir = resolve(cwd);
  for (;;) {
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = join(dir, name);
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch {
        continue;
      }
      // Deno itself accepts comments in deno.json too, so both names are read as JSONC.
      const parsed = parseJsonc(text, `"${path}"`) as Record<string, unknown> | null;
      const section = typeof parsed === "object" && parsed !== null ? parsed.linkpass : undefined;
      return section === undefined ? {} : validate(section, `"${path}"`);
    }
    const up = dirname(dir);
    if (up === dir) return {};
    dir = up;
  }
}
