/**
 * Pass `dce`: removes the functions, globals, tables and element segments nothing can reach
 * (from exports, the start function, live tables' element segments and `ref.func`), renumbering
 * every index that refers to them, without binaryen: bodies that keep their references are
 * copied as bytes, the rest are patched in one streaming pass.
 * @module
 */
import { readNames } from "../wasm/custom.ts";
import type { WasmModule } from "../wasm/module.ts";
import { reach, type ReachOptions, type ReachRoots } from "../wasm/reach.ts";
import { UsageError } from "../errors.ts";
import { applyReachability, type DceCounts } from "./_dce_rewrite.ts";
import { definePass, list, type OptionSpec, type PassFactory, type PassInput } from "./define.ts";

/** Options of {@linkcode eliminateDeadCode}. */
export interface DceOptions {
  /** Extra roots by index. */
  roots?: ReachRoots;
  /** Functions to keep by their name in the `name` section. */
  keepNames?: string[];
  /** File name for messages. */
  file?: string;
  /**
   * Bodies an earlier step rewrote, with their references (see `RewrittenBody`): used instead
   * of the code section's, and written in their place.
   */
  bodies?: ReachOptions["bodies"];
}

/** What {@linkcode eliminateDeadCode} did. */
export interface DceReport extends DceCounts {
  /** Functions (imports included) before. */
  functionsBefore: number;
  /** Functions (imports included) after. */
  functionsAfter: number;
  /** Code section payload bytes before. */
  codeBytesBefore: number;
  /** Code section payload bytes after. */
  codeBytesAfter: number;
}

/**
 * Removes what nothing reaches from `module`, in place (the module API of the `dce` pass, also
 * used by `panic`). Relocatable objects are refused: the linker's own `--gc-sections` does this
 * for them.
 *
 * @example Remove a function nothing calls
 * ```ts
 * import assert from "node:assert";
 * import { WasmModule } from "../wasm/module.ts";
 * import { eliminateDeadCode } from "./dce.ts";
 * // (func $a (export "a") call $b) (func $b) (func $c)
 * const m = WasmModule.parse(new Uint8Array([
 *   0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 4, 3, 0, 0, 0,
 *   7, 5, 1, 1, 0x61, 0, 0, 10, 12, 3, 4, 0, 0x10, 1, 0x0b, 2, 0, 0x0b, 2, 0, 0x0b,
 * ]));
 * const report = eliminateDeadCode(m);
 * assert.strictEqual(report.functionsRemoved, 1);
 * assert.ok(WebAssembly.validate(m.toBytes() as BufferSource));
 * ```
 */
export function eliminateDeadCode(module: WasmModule, options: DceOptions = {}): DceReport {
  if (module.isRelocatable) {
    const file = options.file ? `"${options.file}"` : "the module";
    throw new UsageError(
      `${file} is a relocatable object: dce works on linked modules (the linker's ` +
        `--gc-sections removes dead code from objects); run it on the linker's output`,
    );
  }
  const roots: ReachRoots = { ...options.roots };
  if (options.keepNames?.length) {
    const names = readNames(module)?.functions ?? new Map<number, string>();
    if (names.size === 0) {
      const file = options.file ? `"${options.file}"` : "the module";
      throw new UsageError(
        `${file} has no function names (no "name" section), so functions to keep cannot be ` +
          `named; keep names when building (no wasm-strip, no wasm-bindgen --remove-name-section)`,
      );
    }
    const byName = new Map([...names].map(([i, n]) => [n, i]));
    const missing = options.keepNames.filter((n) => !byName.has(n));
    if (missing.length) {
      throw new UsageError(
        `no function named ${missing.map((n) => `"${n}"`).join(", ")} in the name section; ` +
          `use the names \`linkpass inspect\` lists`,
      );
    }
    roots.functions = [...(roots.functions ?? []), ...options.keepNames.map((n) => byName.get(n)!)];
  }
  const codeBytesBefore = module.section(10)?.payload.length ?? 0;
  const r = reach(module, { roots, bodies: options.bodies });
  const counts = applyReachability(module, r);
  return {
    functionsBefore: r.functionCount,
    functionsAfter: r.functionCount - counts.functionsRemoved,
    ...counts,
    codeBytesBefore,
    codeBytesAfter: module.section(10)?.payload.length ?? 0,
  };
}

/** The options of {@linkcode dce}, as its definition declares them. */
export interface DceSchema extends Record<string, OptionSpec> {
  /** Functions to keep (by name-section name) with what they reach. */
  keep: OptionSpec<string[]>;
}

/**
 * The `dce` pass.
 *
 * @example Dead-code removal as a pipeline pass
 * ```ts
 * import assert from "node:assert";
 * import { runPipeline } from "../pipeline.ts";
 * import { dce } from "./dce.ts";
 * const input = await Deno.readFile(new URL("../examples/demo/app.wasm", import.meta.url));
 * const { report } = await runPipeline(input, [dce()]);
 * assert.strictEqual(report.passes[0].name, "dce");
 * assert.ok(report.outputBytes <= report.inputBytes);
 * ```
 */
export const dce: PassFactory<DceSchema> = definePass<DceSchema>({
  name: "dce",
  description: "remove unreachable functions, globals, tables and element segments, without " +
    "binaryen",
  level: "sections",
  options: {
    keep: list({
      help: "keep this function (by its name in the name section) and what it reaches",
      flag: "dce-keep",
      value: "name",
    }),
  },
  create: (options) => ({
    run: (module, ctx) => ({
      ...eliminateDeadCode(module, { keepNames: options.keep, file: ctx.file }),
    }),
    // Removing and renumbering adds no feature (kept table-only bodies become `unreachable`).
    preservesFeatures: true,
  }),
});

/** Options of {@linkcode dce}. */
export type DceInput = PassInput<typeof dce.definition.options>;
