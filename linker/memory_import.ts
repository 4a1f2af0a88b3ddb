/**
 * Renaming the memory import after the link. linkpass asks every linker for `--import-memory`
 * (the `env`/`memory` import every LLD version knows; `--import-memory=module,name` needs LLD 16)
 * and renames the import afterwards, so old wasm-ld versions work too.
 * @module
 */
import { ByteWriter } from "../wasm/bytes.ts";
import { SectionId, type WasmModule } from "../wasm/module.ts";
import { limits, valType } from "../wasm/types.ts";

/** A `module`/`name` pair of an import. */
export interface ImportName {
  module: string;
  name: string;
}

/**
 * Renames the memory import `from` to `to` in place (only the import section is re-encoded).
 * Returns true when the import was found.
 *
 * @example Rename env.memory
 * ```ts
 * import { renameMemoryImport } from "./memory_import.ts";
 * import { WasmModule } from "../wasm/module.ts";
 * import { readImports } from "../wasm/types.ts";
 * import assert from "node:assert";
 * const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 2, 0x0f, 1, 3, 0x65, 0x6e, 0x76,
 *   6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2, 0, 1]);
 * const m = WasmModule.parse(bytes);
 * assert.ok(renameMemoryImport(m, { module: "env", name: "memory" }, { module: "js", name: "mem" }));
 * const [imp] = readImports(WasmModule.parse(m.toBytes()));
 * assert.deepStrictEqual([imp.module, imp.name, imp.kind], ["js", "mem", "memory"]);
 * ```
 */
export function renameMemoryImport(m: WasmModule, from: ImportName, to: ImportName): boolean {
  const section = m.section(SectionId.import);
  if (!section) return false;
  const r = m.reader(section);
  const w = new ByteWriter();
  const count = r.u32();
  w.u32(count);
  let found = false;
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    const module = r.name("import module name");
    const name = r.name("import name");
    const descriptor = r.pos;
    const kind = r.u8();
    switch (kind) {
      case 0:
        r.u32();
        break;
      case 1:
        valType(r);
        limits(r);
        break;
      case 2:
        limits(r);
        break;
      case 3:
        valType(r);
        r.u8();
        break;
      case 4:
        r.u8();
        r.u32();
        break;
      default:
        r.fail(`invalid import kind ${kind}`, descriptor);
    }
    if (!found && kind === 2 && module === from.module && name === from.name) {
      found = true;
      w.name(to.module).name(to.name).bytes(r.bytes.subarray(descriptor, r.pos));
    } else {
      w.bytes(r.bytes.subarray(start, r.pos));
    }
  }
  if (found) m.setPayload(section, w.finish());
  return found;
}
