/**
 * Size analysis against independent references: item sizes against wasm-objdump's section and
 * body headers, reachability against binaryen's remove-unused-module-elements, dominators against
 * the textbook definition on random graphs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  analyzeSize,
  diffSizes,
  garbageItems,
  type SizeAnalysis,
  topItems,
  whyKept,
} from "../size/mod.ts";
import { EdgeList, Graph, retainedSizes } from "../size/graph.ts";
import { readNames } from "../wasm/custom.ts";
import { WasmModule } from "../wasm/module.ts";
import { runPipeline } from "../pipeline.ts";
import { join } from "node:path";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import { fixture, FIXTURES, needs, run, tool } from "./_tools.ts";
import { binaryenKeeps } from "./_size_reference.ts";

const OBJDUMP = tool("wasm-objdump");
const DEMO = new URL("../examples/demo/app.wasm", import.meta.url).pathname;
const MODULES = [
  DEMO,
  ...FIXTURES.map(fixture),
  fixture("panic/small_z.wasm"),
  fixture("panic/hooked_z.wasm"),
];

const leb = (n: number) => {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
};

for (const path of MODULES) {
  const name = path.split("/tests/fixtures/").pop()!.replace(/.*\/examples\//, "examples/");

  Deno.test(`analyzeSize() on ${name}: the items add up to the file, byte for byte`, async () => {
    const bytes = await Deno.readFile(path);
    const a = analyzeSize(bytes);
    let sum = 0;
    for (const v of a.itemIds()) {
      assert.ok(a.shallow[v] >= 0, `${a.name(v)} has ${a.shallow[v]} bytes`);
      sum += a.shallow[v];
    }
    assert.equal(sum, bytes.length);
  });

  Deno.test({
    name: `analyzeSize() on ${name}: function and section sizes match wasm-objdump's headers`,
    ...needs(OBJDUMP),
    async fn() {
      const a = analyzeSize(await Deno.readFile(path));
      const text = await run(OBJDUMP!, ["-x", path]);
      // " - func[3] size=120 <name>" lines of the Code section.
      const code = text.slice(text.indexOf("\nCode["));
      const bodies = [...code.matchAll(/^ - func\[(\d+)\] size=(\d+)/gm)].map((
        m,
      ) => [+m[1], +m[2]]);
      const fnNodes = new Map<number, number>();
      for (const v of a.itemIds()) {
        if (a.item(v, false).kind === "function") fnNodes.set(a.index[v], v);
      }
      assert.equal(bodies.length, fnNodes.size);
      for (const [index, size] of bodies) {
        assert.equal(a.shallow[fnNodes.get(index)!], size + leb(size), `func[${index}]`);
      }
      // Custom sections: from the end of the previous section to their own end (objects pad
      // section sizes to 5-byte LEBs, so the header length cannot be derived from the size).
      const headers = await run(OBJDUMP!, ["-h", path]);
      const customs = topItems(a, { limit: 1000, kinds: ["custom"] });
      let previousEnd = 8;
      let checked = 0;
      for (
        const m of headers.matchAll(
          /(\w+) start=0x[0-9a-f]+ end=0x([0-9a-f]+)[^\n]*?(?:"([^"]+)")?$/gm,
        )
      ) {
        const end = parseInt(m[2], 16);
        if (m[1] === "Custom") {
          const item = customs.find((i) => i.name === `custom section "${m[3]}"`)!;
          assert.equal(item.bytes, end - previousEnd, m[3]);
          checked++;
        }
        previousEnd = end;
      }
      assert.equal(checked, customs.length);
    },
  });
}

/** The Rust modules the --garbage tests check against a reference. */
const GARBAGE_MODULES = [
  DEMO,
  fixture("rust_cdylib/app.wasm"),
  fixture("panic/small_z.wasm"),
  fixture("panic/hooked_z.wasm"),
];

for (const path of GARBAGE_MODULES) {
  const name = path.split("/").slice(-2).join("/");
  Deno.test(`--garbage on ${name} lists exactly the functions binaryen's remove-unused-module-elements removes`, async () => {
    const bytes = await Deno.readFile(path);
    const a = analyzeSize(bytes);
    const garbage = new Set(
      garbageItems(a).filter((i) => i.kind === "function" || i.kind === "import").map((i) =>
        i.rawName!
      ),
    );
    const kept = await binaryenKeeps(bytes);
    const all = [...readNames(WasmModule.parse(bytes))!.functions.values()];
    for (const n of garbage) assert.ok(!kept.has(n), `garbage ${n} is kept by binaryen`);
    for (const n of all) {
      assert.ok(kept.has(n) || garbage.has(n), `binaryen removes ${n}, not in --garbage`);
    }
  });
}

// ---- Dominators against the definition ----------------------------------------------------------

/** d dominates v iff v is unreachable from the root once d is removed. */
function naiveIdom(n: number, edges: [number, number][]): Int32Array {
  const succ: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) succ[a].push(b);
  const reach = (skip: number) => {
    const seen = new Uint8Array(n);
    if (skip === 0) return seen;
    const stack = [0];
    seen[0] = 1;
    while (stack.length) {
      for (const w of succ[stack.pop()!]) {
        if (!seen[w] && w !== skip) {
          seen[w] = 1;
          stack.push(w);
        }
      }
    }
    return seen;
  };
  const all = reach(-1);
  const doms: Set<number>[] = Array.from({ length: n }, () => new Set());
  for (let d = 0; d < n; d++) {
    if (!all[d]) continue;
    const r = reach(d);
    for (let v = 0; v < n; v++) if (all[v] && !r[v] && v !== d) doms[v].add(d);
  }
  // The immediate dominator is the strict dominator that every other strict dominator dominates.
  const idom = new Int32Array(n).fill(-1);
  for (let v = 1; v < n; v++) {
    if (!all[v]) continue;
    for (const d of doms[v]) {
      if ([...doms[v]].every((o) => o === d || doms[d].has(o))) idom[v] = d;
    }
  }
  return idom;
}

Deno.test("Graph.dominators() agrees with the definition of dominance on random graphs", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: n * 3 }),
        )
      ),
      ([n, edges]) => {
        const list = new EdgeList();
        for (const [a, b] of edges) list.add(a, b, 1);
        const { idom, order } = new Graph(n, list).dominators();
        assert.deepEqual([...idom], [...naiveIdom(n, edges)]);
        // Retained sizes: each node's dominator subtree.
        const shallow = Float64Array.from({ length: n }, (_, i) => i + 1);
        const retained = retainedSizes(shallow, idom, order);
        for (let v = 0; v < n; v++) {
          if (idom[v] < 0 && v !== 0) continue;
          let expect = 0;
          for (let w = 0; w < n; w++) {
            let x = w;
            while (x >= 0 && x !== v) x = x === 0 ? -1 : idom[x];
            if (x === v && (w === v || idom[w] >= 0)) expect += shallow[w];
          }
          assert.equal(retained[v], expect, `retained of ${v}`);
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("EdgeList.addRange() gives the graph of the single edges, in the same order", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.nat(4), fc.nat(3)), {
            maxLength: n * 2,
          }),
        )
      ),
      ([n, runs]) => {
        const single = new EdgeList();
        const ranged = new EdgeList();
        for (const [from, to, len, kind] of runs) {
          const end = Math.min(n, to + len);
          for (let w = to; w < end; w++) single.add(from, w, kind);
          ranged.addRange(from, to, end, kind);
        }
        const a = new Graph(n, single);
        const b = new Graph(n, ranged);
        for (
          const k of ["succStart", "succ", "succKind", "predStart", "pred", "predKind"] as const
        ) {
          assert.deepEqual([...b[k]], [...a[k]], k);
        }
      },
    ),
    { numRuns: 200 },
  );
});

// ---- Paths ---------------------------------------------------------------------------------------

function assertPathValid(a: SizeAnalysis, ids: number[]) {
  const g = a.graph;
  const edge = (u: number, v: number) => {
    for (let e = g.succStart[u]; e < g.succStart[u + 1]; e++) if (g.succ[e] === v) return true;
    return false;
  };
  assert.ok(edge(0, ids[0]), `${a.name(ids[0])} is not a root`);
  for (let i = 1; i < ids.length; i++) {
    assert.ok(edge(ids[i - 1], ids[i]), `${a.name(ids[i - 1])} does not reach ${a.name(ids[i])}`);
  }
}

Deno.test("whyKept() paths start at a root, follow real edges, and the first is a shortest one", async () => {
  const a = analyzeSize(await Deno.readFile(fixture("panic/hooked_z.wasm")));
  const why = whyKept(a, "/./", { limit: 1000, paths: 4 });
  assert.ok(why.matches.length > 20);
  for (const m of why.matches) {
    if (!m.item.reachable) {
      assert.equal(m.paths.length, 0);
      continue;
    }
    assert.ok(m.paths.length > 0, m.item.name);
    m.paths.forEach((p) => assertPathValid(a, p.map((s) => s.item.id)));
    assert.equal(
      m.paths[0].length,
      a.paths.depth[m.item.id],
      `${m.item.name}: not a shortest path`,
    );
    const lasts = m.paths.map((p) => (p.length > 1 ? p[p.length - 2].item.id : 0));
    assert.equal(new Set(lasts).size, lasts.length, "each path comes through a different referrer");
  }
});

Deno.test("whyKept() matches mangled and demangled spellings, /regex/ and substrings", async () => {
  const a = analyzeSize(await Deno.readFile(DEMO));
  const raw = whyKept(a, "_ZN4core9panicking9panic_fmt17h9ec1c8305a7da9aeE").matches;
  assert.equal(raw.length, 1);
  assert.equal(whyKept(a, "/panicking9panic_fmt/").matches[0].item.id, raw[0].item.id);
  assert.equal(whyKept(a, "9panic_fmt").matches[0].item.id, raw[0].item.id);
  assert.equal(whyKept(a, "no_such_function").matches.length, 0);
});

Deno.test("retained size: an export that alone calls a helper retains the helper", async () => {
  const a = analyzeSize(await Deno.readFile(DEMO));
  const { idom } = a;
  for (const v of a.itemIds()) {
    if (!a.isReachable(v)) continue;
    assert.ok(a.retained[v] >= a.shallow[v]);
    if (idom[v] > 0) assert.ok(a.retained[idom[v]] >= a.retained[v] + a.shallow[idom[v]]);
  }
  // The root retains every reachable byte.
  let reachable = 0;
  for (let v = 1; v < a.nodeCount; v++) if (a.isReachable(v)) reachable += a.shallow[v];
  assert.equal(a.retained[0], reachable);
});

Deno.test("diffSizes() after stripping: removed sections, deltas add up to the file's", async () => {
  const before = await Deno.readFile(DEMO);
  const { bytes: after } = await runPipeline(before, [stripCustomSections({ remove: ["debug"] })]);
  const d = diffSizes(before, after);
  assert.equal(d.total.delta, after.length - before.length);
  assert.equal(d.items.reduce((n, r) => n + r.delta, 0), d.total.delta);
  assert.equal(d.sections.reduce((n, r) => n + r.delta, 0), d.total.delta);
  assert.ok(d.items.every((r) => r.status === "removed" && r.kind === "custom"));
  assert.deepEqual(
    d.items.map((r) => r.name).sort(),
    WasmModule.parse(before).customSections().map((s) => s.name).filter((n) =>
      n.startsWith(".debug")
    )
      .map((n) => `custom section "${n}"`).sort(),
  );
});

Deno.test("analyzeSize() on a relocatable object: names from the symbol table, symbols are roots", async () => {
  const a = analyzeSize(await Deno.readFile(fixture("c_objects/main.o")));
  assert.ok(a.relocatable);
  const fns = topItems(a, { limit: 100, kinds: ["function"] });
  assert.ok(fns.length > 0);
  assert.ok(
    fns.every((f) => a.isReachable(f.id) && !f.name.startsWith("func[")),
    JSON.stringify(fns.map((f) => f.name)),
  );
});

const CLANG = tool("clang-19") ?? tool("clang");

Deno.test({
  name:
    "analyzeSize() on a clang object: data addresses and function pointers come from relocations",
  ...needs(CLANG),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_size_obj_" });
    await Deno.writeTextFile(
      join(dir, "vt.c"),
      `static int triple(int x) { return x * 3; }
static int square(int x) { return x * x; }
static int (*const ops[])(int) = { triple, square };
int apply(int i, int x) { return ops[i & 1](x); }
static const char message[] = "hello from a data segment";
const char *greet(void) { return message; }
`,
    );
    await run(CLANG!, ["--target=wasm32", "-O1", "-c", join(dir, "vt.c"), "-o", join(dir, "vt.o")]);
    const a = analyzeSize(await Deno.readFile(join(dir, "vt.o")));
    assert.ok(a.relocatable);
    const path = (name: string, n = 0) =>
      whyKept(a, name, { paths: 5 }).matches[0].paths[n].map((s) => `${s.via} → ${s.item.name}`);
    // The string is kept by greet's MEMORY_ADDR relocation, not by being active data.
    assert.deepEqual(path("message"), ["linker symbol → greet", "address → message"]);
    // triple is reached through the vtable in data (a TABLE_INDEX relocation in reloc.DATA).
    const viaData = whyKept(a, "triple", { paths: 5 }).matches[0].paths.map((p) =>
      p.map((s) => `${s.via} → ${s.item.name}`).join(", ")
    );
    assert.ok(
      viaData.includes("linker symbol → apply, address → ops, function pointer → triple"),
      viaData.join(" | "),
    );
    assert.equal(garbageItems(a).length, 0);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("--garbage lists exactly the functions linkpass's own dce pass removes", async () => {
  const { dce } = await import("../passes/dce.ts");
  for (const path of [...GARBAGE_MODULES, fixture("glue/app.wasm")]) {
    const bytes = await Deno.readFile(path);
    const garbage = new Set(
      garbageItems(analyzeSize(bytes)).filter((i) => i.kind === "function" || i.kind === "import")
        .map((i) => i.rawName),
    );
    const { bytes: out } = await runPipeline(bytes, [dce()]);
    const kept = new Set(readNames(WasmModule.parse(out))!.functions.values());
    for (const name of readNames(WasmModule.parse(bytes))!.functions.values()) {
      assert.equal(garbage.has(name), !kept.has(name), `${path}: ${name}`);
    }
  }
});
