/**
 * Panics without core::fmt: the `panic` pass in hook mode on a small Rust module. The panic roots
 * call an imported JS function with the panic's file, line and column, then trap.
 *
 *   deno run -A examples/panic_hook.ts
 * @module
 */
import { panic, runPipeline } from "../mod.ts";

const input = await Deno.readFile(
  new URL("../tests/fixtures/panic/small_z.wasm", import.meta.url),
);
const { bytes, report } = await runPipeline(input, [panic({ mode: "hook" })]);
const r = report.passes[0].report as { codeBytesBefore: number; codeBytesAfter: number };
console.log(`code: ${r.codeBytesBefore} → ${r.codeBytesAfter} bytes`);

const state: { memory?: WebAssembly.Memory } = {};
const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {
  linkpass: {
    panic(filePtr: number, fileLen: number, line: number, col: number) {
      const file = new TextDecoder().decode(new Uint8Array(state.memory!.buffer, filePtr, fileLen));
      console.log(`panicked at ${file}:${line}:${col}`);
    },
  },
});
state.memory = instance.exports.memory as WebAssembly.Memory;
const checkedDiv = instance.exports.checked_div as (a: number, b: number) => number;
console.log(`84 / 2 = ${checkedDiv(84, 2)}`);
try {
  checkedDiv(1, 0);
} catch (e) {
  console.log(`then trapped: ${(e as Error).message}`);
}
