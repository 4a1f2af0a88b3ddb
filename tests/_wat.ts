/**
 * WAT for tests, assembled by wabt (npm) with the features the fixtures use.
 * @module
 */
import wabtInit from "wabt";

const wabt = await wabtInit();

/** Assembles WAT with the features the fixtures use. */
export function wat(text: string): Uint8Array {
  const m = wabt.parseWat("test.wat", text, {
    reference_types: true,
    bulk_memory: true,
    memory64: true,
  });
  m.resolveNames();
  m.validate();
  const { buffer } = m.toBinary({ write_debug_names: true });
  m.destroy();
  return buffer;
}
