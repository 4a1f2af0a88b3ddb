/**
 * A user pass in 20 lines: renames every export to upper case (exports are a standard section,
 * so the pass re-encodes only that section; everything else is copied raw).
 *
 *   deno run -A cli.ts opt app.wasm -o app.upper.wasm --pass ./examples/user_pass.ts
 * @module
 */
import { ByteWriter, EXTERNAL_KINDS, type Pass, readExports, SectionId } from "../mod.ts";

export default function upperCaseExports(): Pass {
  return {
    name: "upper-case-exports",
    description: "rename every export to upper case",
    level: "sections",
    run(module) {
      const exports = readExports(module);
      const w = new ByteWriter().u32(exports.length);
      for (const e of exports) {
        w.name(e.name.toUpperCase()).byte(EXTERNAL_KINDS.indexOf(e.kind)).u32(e.index);
      }
      module.setPayload(module.section(SectionId.export)!, w.finish());
      return { renamed: exports.length };
    },
  };
}
