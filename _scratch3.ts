import { loadBinaryen, readIr } from "./pipeline.ts";
const b = await loadBinaryen();
for (const f of Deno.args) {
  const bytes = await Deno.readFile(f);
  const ir = readIr(b, bytes);
  const before = ir.getNumFunctions();
  ir.runPasses(["remove-unused-module-elements"]);
  console.log(f, before, ir.getNumFunctions(), ir.emitBinary().length);
  ir.dispose();
}
