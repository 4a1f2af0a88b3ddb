/**
 * A real wasm-bindgen module from npm (@wasm-fmt/biome_fmt, pinned), installed at test time:
 * run through the pipeline, then driven through the package's own wasm-bindgen JS glue.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import {
  dce,
  panic,
  readImports,
  readModule,
  readNames,
  runPipeline,
  stripCustomSections,
} from "../mod.ts";
import { needs, run, tool } from "./_tools.ts";

const PACKAGE = "@wasm-fmt/biome_fmt@0.2.9";
const npm = tool("npm");

async function install(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass-npm-" });
  await run(npm!, ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, PACKAGE]);
  return `${dir}/node_modules/@wasm-fmt/biome_fmt`;
}

type Format = (src: string, filename: string) => string;

/**
 * Instantiates `bytes` with a fresh copy of the package's wasm-bindgen glue. The glue keeps its
 * instance in module state, and Deno shares one module instance per file under node_modules (a
 * query string does not make a new one), so each load imports its own copy of the file.
 */
async function load(pkg: string, bytes: Uint8Array, tag: string): Promise<Format> {
  const copy = `${pkg}/../../glue_${tag}.js`;
  await Deno.copyFile(`${pkg}/biome_fmt_bg.js`, copy);
  const glue = await import(pathToFileURL(copy).href);
  const { __wbg_set_wasm, format, formatRange: _, ...imports } = glue;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    "./biome_fmt_bg.js": imports,
  });
  __wbg_set_wasm(instance.exports);
  return format;
}

const INPUTS: [string, string][] = [
  ["const x={a:1,b:[1,2,3]}", "index.js"],
  ["function f( a:number ){return a*2}", "index.ts"],
  ["let s = `t${ 1+2 }`;if(s){console.log( s )}", "index.js"],
  ["const el = <div   className='x'>{items.map(i=><b key={i}>{i}</b>)}</div>", "index.jsx"],
];

Deno.test(
  `${PACKAGE}: stripped module gives the same outputs through its own glue`,
  needs(npm),
  async () => {
    const pkg = await install();
    try {
      const input = await Deno.readFile(`${pkg}/biome_fmt_bg.wasm`);
      const m = readModule(input);
      assert.ok(
        readImports(m).some((i) => i.module === "./biome_fmt_bg.js"),
        "a wasm-bindgen module",
      );
      const { bytes: unchanged } = await runPipeline(input, []);
      assert.strictEqual(unchanged, input, "empty pipeline returns the input");
      const { bytes, report } = await runPipeline(input, [stripCustomSections()]);
      assert.deepEqual(readModule(bytes).customSections(), []);
      assert.equal(report.passes[0].report.bytesSaved, input.length - bytes.length);
      const before = await load(pkg, input, "before");
      const after = await load(pkg, bytes, "after");
      // dce and panic (when the module kept names) on the same module, through the same glue
      const names = readNames(readModule(input)) !== undefined;
      const passes = names ? [panic({ mode: "trap", allowUnwindChange: true }), dce()] : [dce()];
      const code = await runPipeline(input, passes);
      assert.ok(code.bytes.length < input.length, "dead code removed");
      const afterCode = await load(pkg, code.bytes, "code");
      for (const [src, file] of INPUTS) {
        const expected = before(src, file);
        assert.notEqual(expected, src);
        assert.equal(after(src, file), expected, src);
        assert.equal(afterCode(src, file), expected, `${src} after ${passes.map((p) => p.name)}`);
      }
      const outcome = (f: Format) => {
        try {
          return f("const = ;", "index.js");
        } catch (e) {
          return `threw ${e}`;
        }
      };
      assert.equal(outcome(after), outcome(before), "syntax errors come out the same");
    } finally {
      await Deno.remove(pkg.replace(/\/node_modules\/.*$/, ""), { recursive: true });
    }
  },
);
