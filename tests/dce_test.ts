/**
 * The `dce` pass: removes exactly what binaryen's remove-unused-module-elements removes on the
 * Rust fixtures, keeps behaviour, renumbers calls, `ref.func`, globals, tables, element segments,
 * exports, the start function and the name section, and copies untouched bodies as bytes.
 */
import assert from "node:assert/strict";
import binaryen from "binaryen";
import {
  dce,
  eliminateDeadCode,
  externrefBatch,
  PassError,
  reach,
  readExports,
  readModule,
  readNames,
  runPipeline,
  stripCustomSections,
} from "../mod.ts";
import { readIr } from "../pipeline.ts";
import { call, instantiate, MODULES } from "./_calls.ts";
import { wat } from "./_wat.ts";
import { fixture } from "./_tools.ts";

for (const [file, calls] of MODULES) {
  Deno.test(`dce on ${file}: at most binaryen's functions, same results, names follow`, async () => {
    const input = await Deno.readFile(fixture(file));
    const { bytes, report } = await runPipeline(input, [dce()]);
    const r = report.passes[0].report as { functionsAfter: number; codeBytesAfter: number };
    const ir = readIr(binaryen, input);
    try {
      ir.runPasses(["remove-unused-module-elements"]);
      // binaryen keeps every function a live table holds; dce keeps them too, but empties the
      // bodies no call_indirect of their type can reach (as binaryen does after panic rewrites)
      assert.ok(r.functionsAfter <= ir.getNumFunctions(), "no more functions than binaryen");
    } finally {
      ir.dispose();
    }
    assert.ok(r.codeBytesAfter <= readModule(input).section(10)!.payload.length);
    const before = instantiate(input);
    const after = instantiate(bytes);
    for (const [name, args] of calls) {
      assert.deepEqual(call(after, name, args), call(before, name, args), `${name}(${args})`);
    }
    const out = readModule(bytes);
    const names = readNames(out)!.functions;
    for (const e of readExports(out)) {
      if (e.kind === "func" && e.name !== "init") assert.equal(names.get(e.index), e.name);
    }
  });
}

const MODULE = `(module
  (type $v (func))
  (type $unused (func (param i64) (result i64)))
  (type $only_dead (func (param f32)))
  (import "env" "used" (func $used))
  (import "env" "unused" (func $unused))
  (import "env" "g_unused" (global $gi i32))
  (table $t 2 funcref)
  (table $dead 1 funcref)
  (global $g0 (mut i32) (i32.const 1))
  (global $g1 (mut i32) (i32.const 2))
  (global $fp funcref (ref.func $by_global))
  (elem (table $dead) (i32.const 0) func $only_in_dead_table)
  (elem $passive func $in_passive)
  (elem declare func $by_ref)
  (func $dead_first (call $unused) (global.set $g0 (i32.const 9))
    (call_indirect (type $only_dead) (f32.const 1) (i32.const 0)))
  (func $main (export "main") (result i32)
    (call $used)
    (drop (ref.func $by_ref))
    (drop (global.get $fp))
    (global.get $g1))
  (func $only_in_dead_table)
  (func $in_passive)
  (func $by_ref)
  (func $by_global)
  (func $start (global.set $g1 (i32.const 7)))
  (start $start))`;

Deno.test("dce renumbers imports, globals, tables, segments, ref.func and start", () => {
  const m = readModule(wat(MODULE));
  const report = eliminateDeadCode(m);
  assert.deepEqual(
    {
      functionsRemoved: report.functionsRemoved,
      importsRemoved: report.importsRemoved,
      globalsRemoved: report.globalsRemoved,
      tablesRemoved: report.tablesRemoved,
      elementSegmentsRemoved: report.elementSegmentsRemoved,
      typesRemoved: report.typesRemoved,
    },
    {
      // $unused, $dead_first, $only_in_dead_table, $in_passive
      functionsRemoved: 4,
      importsRemoved: 2, // $unused and the global $gi
      globalsRemoved: 2, // $gi, $g0
      tablesRemoved: 2, // neither table is used
      elementSegmentsRemoved: 2, // the active one on $dead, the passive one
      typesRemoved: 2, // $unused, and $only_dead that only a dead call_indirect named
    },
  );
  const bytes = m.toBytes();
  const calls: string[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    env: { used: () => calls.push("used") },
  });
  assert.equal((instance.exports.main as () => number)(), 7, "start ran and main reads $g1");
  assert.deepEqual(calls, ["used"]);
  const names = readNames(readModule(bytes))!;
  assert.deepEqual([...names.functions.values()], ["used", "main", "by_ref", "by_global", "start"]);
  assert.deepEqual([...names.globals.values()], ["g1", "fp"]);
});

Deno.test("reach() takes extra roots and can leave exports out", () => {
  const m = readModule(wat(MODULE));
  const names = readNames(m)!.functions;
  const index = (n: string) => [...names].find(([, v]) => v === n)![0];
  const r = reach(m, { exportsAreRoots: false, roots: { functions: [index("in_passive")] } });
  const live = [...names].filter(([i]) => r.functions[i]).map(([, n]) => n);
  assert.deepEqual(live, ["in_passive", "start"]);
  assert.equal(r.reason(index("by_ref")), "unreachable");
  const all = reach(m);
  assert.equal(all.reason(index("by_ref")), `referred to by function ${index("main")}`);
});

Deno.test("dce --dce-keep keeps a named function; unknown names and objects are refused", async () => {
  const input = wat(MODULE);
  const { bytes } = await runPipeline(input, [dce({ keep: ["dead_first"] })]);
  const names = [...readNames(readModule(bytes))!.functions.values()];
  assert.ok(names.includes("dead_first") && names.includes("unused"));
  await assert.rejects(runPipeline(input, [dce({ keep: ["nope"] })]), (e) => {
    assert.ok(e instanceof PassError && !e.internal);
    assert.match(e.message, /no function named "nope"/);
    return true;
  });
  const object = await Deno.readFile(fixture("rust_objects/lib.o"));
  await assert.rejects(runPipeline(object, [dce()]), /relocatable object/);
  // Without a name section, the error says that, not that one name is missing.
  const stripped = readModule(input);
  stripped.sections = stripped.sections.filter((s) => s.name !== "name");
  await assert.rejects(
    runPipeline(stripped.toBytes(), [dce({ keep: ["dead_first"] })], { file: "s.wasm" }),
    /"s\.wasm" has no function names \(no "name" section\), so functions to keep cannot be named; keep names/,
  );
});

Deno.test("dce copies bodies whose references keep their indices as bytes", () => {
  // Nothing before $f is removed, so its body (and the code section) stays byte for byte.
  const input = wat(`(module (func $f (export "f") (call $g)) (func $g) (func $dead))`);
  const m = readModule(input);
  const code = m.section(10)!.payload;
  const report = eliminateDeadCode(m);
  assert.equal(report.functionsRemoved, 1);
  const out = m.section(10)!.payload;
  assert.deepEqual(out, code.subarray(0, out.length).with(0, 2), "first bodies unchanged");
});

Deno.test("dce on bodies rewritten earlier (panic's route) writes what a re-decode would", async () => {
  const { findRootsOnBytes } = await import("../passes/_panic_object.ts");
  const { rewriteBodies, rewriteOnBytes } = await import("../passes/_panic_bytes.ts");
  const { readCode, readImports } = await import("../wasm/types.ts");
  for (const file of ["panic/small_z.wasm", "panic/hooked_z.wasm", "rust_cdylib/app.wasm"]) {
    const bytes = await Deno.readFile(fixture(file));
    const names = readNames(readModule(bytes))!.functions;
    const m0 = readModule(bytes);
    const imported = readImports(m0).filter((i) => i.kind === "func").length;
    const roots = await findRootsOnBytes(names, readCode(m0), imported, () => {});
    const set = new Set(roots.map((r) => r.index));
    assert.ok(set.size > 0, file);
    // The section rewritten and decoded again by dce ...
    const a = readModule(bytes);
    rewriteOnBytes(a, set);
    const ra = eliminateDeadCode(a);
    // ... and the rewritten bodies handed to dce with their references.
    const b = readModule(bytes);
    const { bodies } = rewriteBodies(b, set);
    assert.ok(bodies.size > 0, file);
    const rb = eliminateDeadCode(b, { bodies });
    // (codeBytesBefore differs: here dce sees the section before the rewrite)
    assert.deepEqual({ ...rb, codeBytesBefore: 0 }, { ...ra, codeBytesBefore: 0 }, file);
    assert.deepEqual(b.toBytes(), a.toBytes(), file);
  }
});

Deno.test("dce keeps a block type index of 64 and more a signed LEB (s33), renumbered or not", () => {
  // 64 types the exports use, then the block's type, index 64: `c0 00` (one byte, `40`, reads as
  // the empty block type). With an unused type $u first it is 65, renumbered to 64 once $u goes.
  for (const unused of [false, true]) {
    const types = Array.from(
      { length: 64 },
      (_, i) =>
        `(type $t${i} (func (param ${"i32 ".repeat(i % 3 + 1)}) (result ${
          "f64 ".repeat(i % 4 + 1)
        })))`,
    ).join("\n");
    const exports = Array.from(
      { length: 64 },
      (_, i) => `(func (export "g${i}") (type $t${i}) unreachable)`,
    ).join("\n");
    const text = `(module ${unused ? "(type $u (func (param i64)))" : ""} ${types} ${exports}
      (type $b (func (param i32) (result i32 i32)))
      (func (export "f") (param i32) (result i32)
        (local.get 0) (block (type $b) (param i32) (result i32 i32) (i32.const 1)) i32.add))`;
    const m = readModule(wat(text));
    eliminateDeadCode(m);
    const bytes = m.toBytes();
    assert.ok(WebAssembly.validate(bytes as BufferSource), `valid (unused type: ${unused})`);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource)).exports
      .f as (x: number) => number;
    assert.equal(f(41), 42);
  }
});

Deno.test("dce, strip and externref-batch keep a GC-proposal module working (structs, arrays, rec groups, call_ref)", async () => {
  // The shape Kotlin/Wasm, dart2wasm and wasm_of_ocaml output has: typed references everywhere.
  // $unused is used only by $dead: with typed references, types stay (type indices are in heap
  // types everywhere), while $dead goes.
  const ir = binaryen.parseText(`(module
    (type $unused (struct (field i64)))
    (rec
      (type $node (struct (field $val (mut i32)) (field $next (ref null $node))))
      (type $list (sub (struct (field $head (ref null $node))))))
    (type $arr (array (mut i32)))
    (type $fn (func (param i32) (result i32)))
    (global $g (mut (ref null $node)) (ref.null $node))
    (elem declare func $double $triple)
    (func $double (type $fn) (i32.mul (local.get 0) (i32.const 2)))
    (func $triple (type $fn) (i32.mul (local.get 0) (i32.const 3)))
    (func $dead (param i32) (result i32)
      (drop (struct.get $unused 0 (struct.new $unused (i64.const 1)))) (local.get 0))
    (func $push (export "push") (param $v i32)
      (global.set $g (struct.new $node (local.get $v) (global.get $g))))
    (func $sum (export "sum") (result i32) (local $n (ref null $node)) (local $s i32)
      (local.set $n (global.get $g))
      (block $done (loop $l
        (br_if $done (ref.is_null (local.get $n)))
        (local.set $s (i32.add (local.get $s) (struct.get $node $val (local.get $n))))
        (local.set $n (struct.get $node $next (local.get $n)))
        (br $l)))
      (local.get $s))
    (func $apply (export "apply") (param $which i32) (param $x i32) (result i32)
      (call_ref $fn (local.get $x)
        (select (result (ref $fn)) (ref.func $double) (ref.func $triple) (local.get $which))))
    (func $len (export "len") (param $n i32) (result i32)
      (array.len (array.new $arr (i32.const 7) (local.get $n)))))`);
  ir.setFeatures(binaryen.Features.GC | binaryen.Features.ReferenceTypes);
  binaryen.setDebugInfo(true);
  const input = ir.emitBinary();
  ir.dispose();
  const run = (bytes: Uint8Array) => {
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource))
      .exports as Record<string, (...a: number[]) => number>;
    e.push(3);
    e.push(4);
    return [e.sum(), e.apply(1, 5), e.apply(0, 5), e.len(6)];
  };
  assert.deepEqual(run(input), [7, 10, 15, 6]);
  const { bytes, report } = await runPipeline(input, [
    dce(),
    stripCustomSections({ remove: ["producers"] }),
    externrefBatch(),
  ]);
  assert.equal((report.passes[0].report as { functionsRemoved: number }).functionsRemoved, 1);
  assert.deepEqual(run(bytes), [7, 10, 15, 6]);
  assert.deepEqual(
    [...readNames(readModule(bytes))!.functions.values()].sort(),
    ["apply", "double", "len", "push", "sum", "triple"],
  );
});
