import { WasmModule } from "./wasm/module.ts";
import { eliminateDeadCode } from "./passes/dce.ts";
for (const f of Deno.args) {
  const bytes = await Deno.readFile(f);
  const t = performance.now();
  const m = WasmModule.parse(bytes);
  const r = eliminateDeadCode(m);
  const out = m.toBytes();
  const ms = performance.now() - t;
  let err = "";
  try { new WebAssembly.Module(out); } catch (e) { err = String(e); }
  console.log(f, ms.toFixed(0), JSON.stringify(r), out.length, err);
  await Deno.writeFile("/tmp/dce_out.wasm", out);
}
