/**
 * A section pass with an option and a placement: drops one custom section by exact name, and runs
 * just before the built-in `strip-custom-sections`. The definition is the only place that says
 * what the pass is called, what it takes and where it runs; `--pass` and `--pass-option` use it.
 *
 *   deno run -A cli.ts opt app.wasm -o out.wasm \
 *     --pass ./examples/section_pass.ts --pass-option section=producers
 * @module
 */
import { definePass, string } from "../mod.ts";

export default definePass({
  name: "drop-section",
  description: "drop the custom section with this exact name",
  level: "sections",
  main: "section",
  options: {
    section: string({ help: "the custom section's name", value: "name", default: "producers" }),
  },
  placement: { before: "strip-custom-sections" },
  create: ({ section }) => ({
    run(module, ctx) {
      const before = module.sections.length;
      module.sections = module.sections.filter((s) => !(s.id === 0 && s.name === section));
      const dropped = before - module.sections.length;
      if (dropped === 0) ctx.warn(`no custom section named "${section}"`);
      return { section, dropped };
    },
  }),
});
