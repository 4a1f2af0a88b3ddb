/**
 * Allocating and freeing 1M JS values (N=... to change) through an externref table from Deno: the js-bindgen
 * shaped module before and after `externref-batch`, against a wasm-bindgen-style allocator
 * (grows by max(128, length) inside wasm, JS stores the value with `table.set`, as wasm-bindgen's
 * `addToExternrefTable` does). Target: batched ≥ 1.3× faster than both.
 * Run with `deno bench -A bench/externref_batch_bench.ts`.
 */
import wabtInit from "wabt";
import { externrefBatch, runPipeline } from "../mod.ts";
import { jsBindgenModule } from "../tests/externref_batch_test.ts";

const wabt = await wabtInit();
const assemble = (text: string) => {
  const m = wabt.parseWat("bench.wat", text, { reference_types: true, bulk_memory: true });
  m.resolveNames();
  m.validate();
  return m.toBinary({}).buffer;
};

const WASM_BINDGEN_STYLE = `(module
  (import "wbg" "externrefs" (table $t 0 externref))
  (memory 160)
  (global $free (mut i32) (i32.const 0))
  (func (export "alloc") (result i32)
    (local $idx i32) (local $len i32)
    (if (global.get $free)
      (then
        (global.set $free (i32.sub (global.get $free) (i32.const 1)))
        (return (i32.load (i32.shl (global.get $free) (i32.const 3))))))
    (local.set $idx (global.get $next))
    (if (i32.ge_u (local.get $idx) (table.size $t))
      (then
        (local.set $len (table.size $t))
        (drop (table.grow $t (ref.null extern)
          (select (i32.const 128) (local.get $len) (i32.gt_u (i32.const 128) (local.get $len)))))))
    (global.set $next (i32.add (local.get $idx) (i32.const 1)))
    (local.get $idx))
  (global $next (mut i32) (i32.const 0))
  (func (export "dealloc") (param $i i32)
    (table.set $t (local.get $i) (ref.null extern))
    (i32.store (i32.shl (global.get $free) (i32.const 3)) (local.get $i))
    (global.set $free (i32.add (global.get $free) (i32.const 1))))
)`;

const N = Number(Deno.env.get("N") ?? 1_000_000);
const values = Array.from({ length: N }, (_, i) => ({ i }));
const slots = new Int32Array(N);
const tableOf = () =>
  new WebAssembly.Table(
    { element: "externref", initial: 0 } as unknown as WebAssembly.TableDescriptor,
  );

const unbatched = new WebAssembly.Module(assemble(jsBindgenModule()) as BufferSource);
const { bytes } = await runPipeline(assemble(jsBindgenModule()), [externrefBatch()]);
const batched = new WebAssembly.Module(bytes as BufferSource);
const wbgStyle = new WebAssembly.Module(assemble(WASM_BINDGEN_STYLE) as BufferSource);

type JsBindgen = { insert(v: unknown): number; remove(i: number): void };

function jsBindgenLoop(module: WebAssembly.Module): void {
  const instance = new WebAssembly.Instance(module, { js_sys: { "externref.table": tableOf() } });
  const e = instance.exports as unknown as JsBindgen;
  for (let i = 0; i < N; i++) slots[i] = e.insert(values[i]);
  for (let i = 0; i < N; i++) e.remove(slots[i]);
}

Deno.bench({
  name: "js-bindgen allocator, unbatched (grow by 1)",
  group: "alloc",
  fn: () => jsBindgenLoop(unbatched),
});

Deno.bench({
  name: "wasm-bindgen-style allocator (grow by max(128, len), JS table.set)",
  group: "alloc",
  fn() {
    const table = tableOf();
    const instance = new WebAssembly.Instance(wbgStyle, { wbg: { externrefs: table } });
    const e = instance.exports as unknown as { alloc(): number; dealloc(i: number): void };
    for (let i = 0; i < N; i++) {
      const idx = e.alloc();
      (table as unknown as { set(i: number, v: unknown): void }).set(idx, values[i]);
      slots[i] = idx;
    }
    for (let i = 0; i < N; i++) e.dealloc(slots[i]);
  },
});

Deno.bench({
  name: "js-bindgen allocator after externref-batch",
  group: "alloc",
  baseline: true,
  fn: () => jsBindgenLoop(batched),
});
