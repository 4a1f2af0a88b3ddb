import assert from "node:assert/strict";
import { externrefBatch, readExports, readModule, readNames, runPipeline } from "../mod.ts";
import binaryen from "binaryen";
import { thrown } from "./_tools.ts";
import { wat } from "./_wat.ts";

/**
 * A js-bindgen-shaped allocator: an imported externref table, `js_sys.externref.grow` growing it
 * by one slot behind a free list kept in memory, and insert/get/remove. `table` is the table type
 * (`0 externref`, `0 1000 externref`, `i64 0 externref`).
 */
export function jsBindgenModule(table = "0 externref", index = "i32"): string {
  const k = (v: number) => `(${index}.const ${v})`;
  return `(module
  (import "js_sys" "externref.table" (table $t ${table}))
  (memory 160)
  (global $free (mut i32) (i32.const 0))
  (func $js_sys.externref.grow (param $n ${index}) (result ${index})
    ref.null extern
    local.get $n
    table.grow $t)
  (func (export "insert") (param $v externref) (result ${index})
    (local $idx ${index})
    (if (global.get $free)
      (then
        (global.set $free (i32.sub (global.get $free) (i32.const 1)))
        (local.set $idx (${index}.load (i32.shl (global.get $free) (i32.const 3)))))
      (else
        (local.set $idx (call $js_sys.externref.grow ${k(1)}))
        (if (${index}.eq (local.get $idx) ${k(-1)}) (then unreachable))))
    (table.set $t (local.get $idx) (local.get $v))
    (local.get $idx))
  (func (export "get") (param $i ${index}) (result externref) (table.get $t (local.get $i)))
  (func (export "remove") (param $i ${index})
    (table.set $t (local.get $i) (ref.null extern))
    (${index}.store (i32.shl (global.get $free) (i32.const 3)) (local.get $i))
    (global.set $free (i32.add (global.get $free) (i32.const 1))))
  (func (export "grow") (param $v externref) (param $n ${index}) (result ${index})
    (table.grow $t (local.get $v) (local.get $n)))
  (func (export "grow_const3") (result ${index})
    (table.grow $t (ref.null extern) ${k(3)}))
  (func (export "size") (result ${index}) (table.size $t))
)`;
}

type Exports = {
  insert(v: unknown): number;
  get(i: number): unknown;
  remove(i: number): void;
  grow(v: unknown, n: number): number;
  grow_const3(): number;
  size(): number;
};

async function instantiate(bytes: Uint8Array, table: WebAssembly.Table) {
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {
    js_sys: { "externref.table": table },
  });
  return instance.exports as unknown as Exports;
}

const newTable = (maximum?: number) =>
  new WebAssembly.Table(
    {
      element: "externref",
      initial: 0,
      ...(maximum ? { maximum } : {}),
    } as unknown as WebAssembly.TableDescriptor,
  );

async function batched(text: string, options = {}) {
  const input = wat(text);
  const { bytes, report } = await runPipeline(input, [externrefBatch(options)]);
  return { input, bytes, report: report.passes[0].report };
}

Deno.test("externrefBatch() on a js-bindgen-shaped module: 1M values round-trip with at most 32 physical grows", async () => {
  const { bytes, report } = await batched(jsBindgenModule());
  assert.equal(report.sitesRewritten, 3);
  const table = newTable();
  const e = await instantiate(bytes, table);
  const values = Array.from({ length: 1_000_000 }, (_, i) => ({ i }));
  const slots = new Int32Array(values.length);
  let grows = 0;
  let length = table.length;
  for (let i = 0; i < values.length; i++) {
    slots[i] = e.insert(values[i]);
    if (table.length !== length) {
      grows++;
      length = table.length;
    }
  }
  assert.ok(grows <= 32, `${grows} physical grows`);
  assert.equal(new Set(slots).size, values.length, "every slot distinct");
  for (let i = 0; i < values.length; i += 997) assert.strictEqual(e.get(slots[i]), values[i]);
  assert.strictEqual(e.get(slots[values.length - 1]), values[values.length - 1]);
  for (const s of slots) e.remove(s);
  const again = e.insert("reused");
  assert.ok(slots.includes(again), "the free list is used before the reserve");
  assert.equal(e.get(again), "reused");
});

Deno.test("the unbatched module grows once per value (the baseline the bench compares against)", async () => {
  const table = newTable();
  const e = await instantiate(wat(jsBindgenModule()), table);
  for (let i = 0; i < 1000; i++) e.insert(i);
  assert.equal(table.length, 1000);
});

Deno.test("ranges never overlap each other nor slots JS grew in between", async () => {
  const { bytes } = await batched(jsBindgenModule());
  const table = newTable();
  const e = await instantiate(bytes, table);
  const ranges: [number, number, string][] = [];
  const kinds = new Set<string>();
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
  for (let step = 0; step < 3000; step++) {
    const what = rand(4);
    if (what === 0) {
      const n = rand(5);
      const old = table.grow(n);
      if (n) ranges.push([old, old + n, "js"]);
    } else if (what === 1) {
      const r = e.grow_const3();
      ranges.push([r, r + 3, "site3"]);
    } else {
      const n = 1 + rand(300);
      const value = { step };
      const r = e.grow(value, n);
      ranges.push([r, r + n, "site"]);
      for (let i = r; i < r + n; i += 37) {
        assert.strictEqual(table.get(i), value, "slots hold the init value");
      }
      assert.strictEqual(table.get(r + n - 1), value);
    }
  }
  for (const r of ranges) kinds.add(r[2]);
  assert.deepEqual([...kinds].sort(), ["js", "site", "site3"], "every kind of growth happened");
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    assert.ok(ranges[i][0] >= ranges[i - 1][1], `overlap: ${ranges[i - 1]} and ${ranges[i]}`);
  }
  assert.ok(ranges.every(([, end]) => end <= table.length));
});

Deno.test("a failed grow returns -1 exactly when the plain table.grow would have", async () => {
  for (const maximum of [1000, 300, 129]) {
    const text = jsBindgenModule(`0 ${maximum} externref`);
    const { input, bytes } = await batched(text);
    const plainTable = newTable(maximum);
    const batchTable = newTable(maximum);
    const plain = await instantiate(input, plainTable);
    const batch = await instantiate(bytes, batchTable);
    let seed = maximum;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % n;
    let failures = 0;
    for (let step = 0; step < 400; step++) {
      const n = rand(4) === 0 ? 0 : 1 + rand(60);
      const a = plain.grow(null, n);
      const b = batch.grow(null, n);
      if (n === 0) {
        assert.equal(a, plainTable.length);
        assert.equal(b, batchTable.length, "delta 0 returns the table size, as table.grow does");
        continue;
      }
      assert.equal(b === -1, a === -1, `step ${step}: grow(${n}) gave ${a} plain, ${b} batched`);
      if (a !== -1) assert.equal(b, a, "the same first slot while nobody else grows the table");
      if (a === -1) failures++;
    }
    assert.ok(failures > 0, "the maximum was reached");
    assert.ok(batchTable.length <= maximum);
  }
});

Deno.test("delta 0 keeps its meaning: it returns the size and grows nothing", async () => {
  const { bytes } = await batched(jsBindgenModule());
  const table = newTable();
  const e = await instantiate(bytes, table);
  assert.equal(e.grow(null, 0), 0);
  e.insert(1);
  assert.equal(e.grow(null, 0), table.length);
  const before = table.length;
  e.grow(null, 0);
  assert.equal(table.length, before);
});

Deno.test("table64 tables batch with i64 deltas and results", async () => {
  const { bytes, report } = await batched(jsBindgenModule("i64 0 externref", "i64"));
  assert.deepEqual((report.tables as { table64: boolean }[]).map((t) => t.table64), [true]);
  const table = new WebAssembly.Table(
    { element: "externref", initial: 0n, address: "i64" } as unknown as WebAssembly.TableDescriptor,
  );
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {
    js_sys: { "externref.table": table },
  });
  const e = instance.exports as unknown as {
    insert(v: unknown): bigint;
    get(i: bigint): unknown;
    grow(v: unknown, n: bigint): bigint;
  };
  const slots = Array.from({ length: 5000 }, (_, i) => e.insert(`v${i}`));
  assert.equal(new Set(slots).size, 5000);
  assert.equal(e.get(slots[4321]), "v4321");
  assert.ok(Number(table.length) < 5000 * 2 && Number(table.length) >= 5000);
  assert.equal(e.grow(null, 0n), BigInt(table.length));
  const r = e.grow("x", 10n);
  assert.equal(e.get(r + 9n), "x");
});

Deno.test("strategies: a fixed batch and a maximum bound each physical grow", async () => {
  for (
    const [options, expected] of [[{ strategy: 64 }, 64], [{ max: 200 }, 200], [{
      strategy: 1000,
      max: 50,
    }, 50]] as const
  ) {
    const { bytes } = await batched(jsBindgenModule(), options);
    const table = newTable();
    const e = await instantiate(bytes, table);
    const lengths = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      e.insert(i);
      lengths.add(table.length);
    }
    const steps = [...lengths].sort((a, b) => a - b);
    const biggest = Math.max(...steps.map((v, i) => v - (steps[i - 1] ?? 0)));
    assert.equal(biggest, expected, JSON.stringify(options));
  }
});

Deno.test("the helper gets no export unless asked, and a name in the name section", async () => {
  const { input, bytes } = await batched(jsBindgenModule());
  const names = (b: Uint8Array) => readExports(readModule(b)).map((e) => e.name);
  assert.deepEqual(names(bytes), names(input));
  const fn = [...readNames(readModule(bytes))!.functions.values()];
  assert.ok(fn.some((n) => n.startsWith("linkpass:externref_batch_grow<")), fn.join(","));
  const exported = await batched(jsBindgenModule(), { exportHelper: "externref_grow" });
  assert.deepEqual(names(exported.bytes), [...names(input), "externref_grow"]);
});

Deno.test("--externref-constant-only rewrites only constant-delta sites", async () => {
  const { report, bytes } = await batched(jsBindgenModule(), { constantOnly: true });
  assert.equal(report.sitesRewritten, 1); // grow_const3; the other two take a variable delta
  assert.equal(report.variableSitesLeft, 2);
  const table = newTable();
  const e = await instantiate(bytes, table);
  e.insert("a");
  assert.equal(table.length, 1, "insert grows through a variable-delta site: untouched");
  assert.equal(e.grow_const3(), 1);
  assert.equal(table.length, 1 + 128, "grow_const3 is batched");
});

Deno.test("modules without externref tables come back byte for byte, and the report says why", async () => {
  const input = wat(
    `(module (table 2 funcref) (func (export "f") (result i32) (table.grow 0 (ref.null func) (i32.const 1))))`,
  );
  const { bytes, report } = await runPipeline(input, [externrefBatch()]);
  assert.strictEqual(bytes, input);
  assert.match(String(report.passes[0].report.skipped), /no externref table/);
  const noSites = wat(
    `(module (table 2 externref) (func (export "f") (result i32) (table.size 0)))`,
  );
  const r2 = await runPipeline(noSites, [externrefBatch()]);
  assert.strictEqual(r2.bytes, noSites);
  assert.match(String(r2.report.passes[0].report.skipped), /no table.grow/);
});

Deno.test("--externref-table picks one table by name; bad options fail in the factory", async () => {
  const text = `(module
    (import "js_sys" "externref.table" (table $a 0 externref))
    (table $b (export "second") 0 externref)
    (func (export "ga") (result i32) (table.grow $a (ref.null extern) (i32.const 1)))
    (func (export "gb") (result i32) (table.grow $b (ref.null extern) (i32.const 1))))`;
  const { report } = await batched(text, { table: "second" });
  assert.deepEqual((report.tables as { index: number }[]).map((t) => t.index), [1]);
  assert.equal(report.sitesRewritten, 1);
  const both = await batched(text);
  assert.equal(both.report.sitesRewritten, 2);
  const e = await runPipeline(wat(text), [externrefBatch({ table: "nope" })]).catch((e) => e);
  assert.match(e.message, /No table named "nope" \(tables: a, b\)/);
  assert.throws(() => externrefBatch({ strategy: 0 }), RangeError);
  assert.throws(() => externrefBatch({ max: -1 }), RangeError);
  assert.ok(
    thrown(() => externrefBatch({ strategy: "fast" as "geometric" })) instanceof RangeError,
  );
});

Deno.test("slots handed out from the reserve hold the init value of their own call", async () => {
  const { bytes } = await batched(jsBindgenModule());
  const table = newTable();
  const e = await instantiate(bytes, table);
  const first = e.grow("batch-init", 1); // grows a batch initialized with "batch-init"
  assert.equal(table.get(first), "batch-init");
  const a = e.grow(null, 1); // from the reserve: must be null, not "batch-init"
  assert.equal(table.get(a), null);
  const b = e.grow("x", 3);
  for (let i = b; i < b + 3; i++) assert.equal(table.get(i), "x");
  const c = e.grow(null, 2);
  assert.deepEqual([table.get(c), table.get(c + 1)], [null, null]);
  const d = e.grow(null, 1000); // beyond the reserve: old reserve slots and new ones, all null
  for (let i = d; i < d + 1000; i += 111) assert.equal(table.get(i), null);
  assert.equal(table.get(d + 999), null);
  const f = e.grow(null, 1); // from a reserve grown with null
  assert.equal(table.get(f), null);
});

Deno.test("the inline fast path and the helper-only rewrite hand out the same slots", async () => {
  const inline = await batched(jsBindgenModule());
  const calls = await batched(jsBindgenModule(), { callAlways: true });
  assert.equal(inline.report.inline, true);
  assert.equal(calls.report.inline, false);
  const sequence = async (bytes: Uint8Array) => {
    const table = newTable();
    const e = await instantiate(bytes, table);
    const out: (number | string)[] = [];
    for (let i = 0; i < 300; i++) out.push(e.insert(i));
    out.push(e.grow("x", 2), e.grow(null, 0), e.grow(null, 5), e.grow_const3());
    table.grow(7); // JS grows the table: the reserve must not overlap these slots
    for (let i = 0; i < 200; i++) out.push(e.insert(i));
    out.push(String(e.get(301)), e.size(), table.length);
    return out;
  };
  assert.deepEqual(await sequence(inline.bytes), await sequence(calls.bytes));
  // the inline path skips the helper: a site's own function now holds the reserve check
  assert.ok(inline.bytes.length > calls.bytes.length);
});

Deno.test("a GC-proposal module with an externref table batches too (structs beside table.grow)", async () => {
  // Kotlin/Wasm and dart2wasm keep JS values in externref tables and use GC types in the same
  // code: the site scan decodes any instruction set.
  const ir = binaryen.parseText(`(module
    (type $box (struct (field $v (mut i32))))
    (table $t 0 externref)
    (func $store (export "store") (param $v externref) (param $n i32) (result i32)
      (local $b (ref null $box))
      (local.set $b (struct.new $box (local.get $n)))
      (table.grow $t (local.get $v) (struct.get $box $v (local.get $b))))
    (func $get (export "get") (param $i i32) (result externref) (table.get $t (local.get $i))))`);
  ir.setFeatures(binaryen.Features.GC | binaryen.Features.ReferenceTypes);
  binaryen.setDebugInfo(true);
  const input = ir.emitBinary();
  ir.dispose();
  const { bytes, report } = await runPipeline(input, [externrefBatch()]);
  const r = report.passes[0].report as { tables: { sites: number }[] };
  assert.equal(r.tables[0].sites, 1);
  const e = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource)).exports as {
    store(v: unknown, n: number): number;
    get(i: number): unknown;
  };
  const values = Array.from({ length: 100 }, (_, i) => ({ i }));
  const slots = values.map((v) => e.store(v, 1));
  assert.deepEqual(slots, values.map((_, i) => i));
  assert.ok(values.every((v, i) => e.get(i) === v));
  assert.ok(
    [...readNames(readModule(bytes))!.functions.values()].some((n) =>
      n.startsWith("linkpass:externref_batch_grow")
    ),
  );
});
