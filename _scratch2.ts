import { WasmModule } from "./wasm/module.ts";
import { reach } from "./wasm/reach.ts";
import { readNames } from "./wasm/custom.ts";
const m = WasmModule.parse(await Deno.readFile("tests/fixtures/panic/small_z.wasm"));
const r = reach(m);
const names = readNames(m)!.functions;
for (let f = 0; f < r.functionCount; f++) if (r.functions[f]) console.log(f, names.get(f)?.slice(0,60), r.reason(f), r.refs[f - r.importedFunctions] && [...r.refs[f- r.importedFunctions]!].filter((_, i) => i % 4 < 2).join(","));
