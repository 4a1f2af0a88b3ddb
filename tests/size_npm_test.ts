/**
 * Size views on real modules from npm, installed at test time with pinned versions: esbuild-wasm
 * (Go, 12 MB, no name section, 85,000 data segments, every function in one table) and
 * rust-verkle-wasm (Rust via wasm-bindgen, names kept).
 */
import assert from "node:assert/strict";
import {
  analyzeSize,
  diffSizes,
  garbageItems,
  type SizeAnalysis,
  topItems,
  whyKept,
} from "../size/mod.ts";
import { readNames } from "../wasm/custom.ts";
import { WasmModule } from "../wasm/module.ts";
import { panic } from "../passes/panic.ts";
import { runPipeline } from "../pipeline.ts";
import { needs, run, tool } from "./_tools.ts";
import { binaryenKeeps } from "./_size_reference.ts";

const npm = tool("npm");
const OBJDUMP = tool("wasm-objdump");

async function install(spec: string, file: string): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass-npm-" });
  await run(npm!, ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, spec]);
  const bytes = await Deno.readFile(`${dir}/node_modules/${file}`);
  await Deno.remove(dir, { recursive: true });
  return bytes;
}

/** Body sizes of the code section as wasm-objdump prints them (`- func[i] size=N`). */
async function objdumpBodies(bytes: Uint8Array): Promise<Map<number, number>> {
  const path = await Deno.makeTempFile({ suffix: ".wasm" });
  await Deno.writeFile(path, bytes);
  const text = await run(OBJDUMP!, ["-x", "-j", "Code", path]);
  await Deno.remove(path);
  return new Map([...text.matchAll(/^ - func\[(\d+)\] size=(\d+)/gm)].map((m) => [+m[1], +m[2]]));
}

function assertBodies(a: SizeAnalysis, bodies: Map<number, number>) {
  let functions = 0;
  for (const v of a.itemIds()) {
    if (a.item(v, false).kind !== "function") continue;
    functions++;
    const size = bodies.get(a.index[v])!;
    const leb = size < 128 ? 1 : size < 16384 ? 2 : size < 2097152 ? 3 : 4;
    assert.equal(a.shallow[v], size + leb, `func[${a.index[v]}]`);
  }
  assert.equal(functions, bodies.size);
}

Deno.test({
  name: "esbuild-wasm@0.25.0 (12 MB Go module): sizes, top items and reachability",
  ...needs(npm, OBJDUMP),
  async fn() {
    const bytes = await install("esbuild-wasm@0.25.0", "esbuild-wasm/esbuild.wasm");
    const a = analyzeSize(bytes);
    let sum = 0;
    for (const v of a.itemIds()) sum += a.shallow[v];
    assert.equal(sum, bytes.length);
    assertBodies(a, await objdumpBodies(bytes));
    // The largest items: a 569 KB data segment, then the big Go functions.
    const top = topItems(a, { limit: 20 });
    assert.equal(top.length, 20);
    for (let i = 1; i < top.length; i++) assert.ok(top[i - 1].bytes >= top[i].bytes);
    assert.ok(top.some((i) => i.kind === "data") && top.some((i) => i.kind === "function"));
    // Go puts every function in one exported-or-not table and calls through it: the exports
    // reach almost everything, and retained sizes add up under the root.
    const garbage = garbageItems(a).filter((i) => i.kind === "function");
    assert.ok(garbage.length < 20, `${garbage.length} garbage functions`);
    let reachable = 0;
    for (let v = 1; v < a.nodeCount; v++) if (a.isReachable(v)) reachable += a.shallow[v];
    assert.equal(a.retained[0], reachable);
    const retainers = topItems(a, { limit: 5, by: "retained" });
    assert.ok(retainers[0].retained! >= retainers[4].retained!);
  },
});

Deno.test({
  name:
    "rust-verkle-wasm@0.0.1: demangled names, why core::fmt::write is kept, garbage vs binaryen",
  ...needs(npm, OBJDUMP),
  async fn() {
    const bytes = await install(
      "rust-verkle-wasm@0.0.1",
      "rust-verkle-wasm/web/rust_verkle_wasm_bg.wasm",
    );
    const a = analyzeSize(bytes);
    assertBodies(a, await objdumpBodies(bytes));
    // wasm-bindgen keeps demangled names with their hash; the display drops the hash.
    const fns = topItems(a, { limit: 50, kinds: ["function"] });
    assert.ok(fns.every((f) => !/::h[0-9a-f]{16}$/.test(f.name)));
    assert.ok(fns.some((f) => f.crate === "core" || f.crate === "alloc"));
    const why = whyKept(a, "core::fmt::write");
    assert.equal(why.matches.length, 1);
    const [path] = why.matches[0].paths;
    assert.match(path[0].via, /^export "/);
    assert.equal(path[path.length - 1].item.name, "core::fmt::write");
    // Reachability against binaryen: exactly the functions it removes are garbage.
    const kept = await binaryenKeeps(bytes);
    const garbage = new Set(
      garbageItems(a).filter((i) => i.kind === "function" || i.kind === "import").map((i) =>
        i.rawName
      ),
    );
    for (const name of readNames(WasmModule.parse(bytes))!.functions.values()) {
      assert.equal(garbage.has(name), !kept.has(name), name);
    }
    // After --panic trap, diff names what went.
    const { bytes: after } = await runPipeline(bytes, [panic({ mode: "trap" })]);
    const d = diffSizes(a, analyzeSize(after));
    assert.equal(d.total.delta, after.length - bytes.length);
    assert.ok(d.items.some((r) => r.status === "removed" && r.name.startsWith("std::panicking::")));
  },
});
