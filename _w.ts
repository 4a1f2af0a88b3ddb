import { dce, panic, readModule, readNames, runPipeline } from "./mod.ts";
const f = Deno.args[0];
const input = await Deno.readFile(f);
console.log("names", readNames(readModule(input))?.functions.size);
const r = await runPipeline(input, [panic({mode:"trap", allowUnwindChange: true}), dce()]).catch(e => { console.log(String(e)); return undefined; });
if (r) console.log(input.length, r.bytes.length, JSON.stringify(r.report.passes.map(p => [p.name, p.report.functionsRemoved, p.report.rootsFound])));
