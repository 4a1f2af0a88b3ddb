/**
 * An IR pass through binaryen: removes the exports it is given, then lets binaryen drop every
 * function, global and data segment that nothing reaches any more. Consecutive IR passes share one
 * binaryen parse and one emit; the pipeline validates the result.
 *
 *   deno run -A cli.ts opt app.wasm -o out.wasm \
 *     --pass ./examples/ir_pass.ts --pass-option export=fib_at
 * @module
 */
import { definePass, list } from "../mod.ts";

export default definePass({
  name: "drop-exports",
  description: "remove exports by name, then everything only they reached",
  level: "ir",
  main: "export",
  options: { export: list({ help: "an export to remove (repeatable)", value: "name" }) },
  create: ({ export: names = [] }) => ({
    skip: () => names.length ? undefined : "no export named",
    run(module, ctx) {
      const missing = names.filter((n) => !module.getExport(n));
      if (missing.length) ctx.warn(`no export named ${missing.join(", ")}`);
      const removed = names.filter((n) => !missing.includes(n));
      for (const name of removed) module.removeExport(name);
      const count = () => module.getNumFunctions();
      const before = count();
      module.runPasses(["remove-unused-module-elements"]);
      return { removed, functionsBefore: before, functionsAfter: count() };
    },
  }),
});
