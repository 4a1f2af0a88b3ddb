import assert from "node:assert/strict";
import wabtInit from "wabt";
import { AsmError, assembleFragment, assembleModule, checkWatFragments } from "../asm/mod.ts";
import { main } from "../cli.ts";
import { readImports } from "../wasm/types.ts";
import { readLinking, readRelocs, RelocType, SymbolFlags } from "../wasm/linking.ts";
import { WasmModule } from "../wasm/module.ts";
import { fixture, needs, run, rustLld, rustLldWasm, tool } from "./_tools.ts";

const externrefWat = await Deno.readTextFile(fixture("asm/externref.wat"));
const indirectWat = await Deno.readTextFile(fixture("asm/indirect.wat"));

/** The externref helpers of externref.wat as a plain module: the behaviour to match. */
const PLAIN_EXTERNREF = `(module
  (import "js_sys" "externref.table" (table $t 2 externref))
  (import "env" "js_sys.externref.next" (func $next (result i32)))
  (func $grow (export "grow") (param $size i32) (result i32)
    ref.null extern
    local.get $size
    table.grow $t)
  (func $insert (export "insert") (param $value externref) (result i32)
    (local $index i32)
    call $next
    local.tee $index
    local.get $value
    table.set $t
    local.get $index)
  (func (export "get") (param $index i32) (result externref)
    local.get $index
    table.get $t)
  (func (export "remove") (param $index i32)
    local.get $index
    ref.null extern
    table.set $t)
  (func (export "insert_twice") (param externref) (result i32)
    (i32.add (call $insert (local.get 0)) (call $insert (local.get 0)))))`;

async function wat2wasm(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const m = wabt.parseWat("plain.wat", text, { reference_types: true });
  try {
    m.validate();
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
}

/** Drives the externref helpers through the exports; returns what it observed. */
async function exerciseExternref(wasm: Uint8Array): Promise<unknown[]> {
  const table = new WebAssembly.Table({
    initial: 2,
    element: "externref" as WebAssembly.TableKind,
  });
  let slot = 2;
  const { instance } = await WebAssembly.instantiate(wasm as BufferSource, {
    js_sys: { "externref.table": table },
    env: { "js_sys.externref.next": () => slot++ },
  });
  // deno-lint-ignore no-explicit-any
  const e = instance.exports as any;
  const obj = { name: "obj" };
  const seen: unknown[] = [table.length, e.grow(3), table.length];
  const hello = e.insert("hello");
  seen.push(hello, e.get(hello), e.insert_twice(obj), e.get(3) === obj, table.get(4) === obj);
  e.remove(hello);
  seen.push(e.get(hello));
  try {
    e.get(100);
    seen.push("no trap");
  } catch (err) {
    seen.push((err as Error).constructor.name);
  }
  return seen;
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "linkpass_asm_" });
}

Deno.test("assembleFragment() writes the symbols and relocations of the externref helpers", async () => {
  const object = await assembleFragment(externrefWat, { file: "externref.wat" });
  const m = WasmModule.parse(object);
  const linking = readLinking(m)!;
  const symbols = linking.symbols.map((s) => ({ name: s.name, kind: s.kind, flags: s.flags }));
  assert.deepEqual(symbols, [
    { name: undefined, kind: 0, flags: SymbolFlags.undefined },
    { name: "js_sys.externref.grow", kind: 0, flags: 0 },
    { name: "js_sys.externref.insert", kind: 0, flags: 0 },
    { name: "js_sys.externref.get", kind: 0, flags: 0 },
    { name: "js_sys.externref.remove", kind: 0, flags: 0 },
    {
      name: "js_sys.externref.table",
      kind: 5,
      flags: SymbolFlags.undefined | SymbolFlags.explicitName,
    },
  ]);
  const relocs = readRelocs(m, m.section("reloc.CODE")!);
  assert.equal(relocs.target, m.sections.findIndex((s) => s.id === 10));
  assert.deepEqual(relocs.entries.map((r) => r.type), [
    RelocType.TABLE_NUMBER_LEB,
    RelocType.FUNCTION_INDEX_LEB,
    RelocType.TABLE_NUMBER_LEB,
    RelocType.TABLE_NUMBER_LEB,
    RelocType.TABLE_NUMBER_LEB,
  ]);
  const code = m.section(10)!.payload;
  for (const r of relocs.entries) {
    // 5-byte padded LEB: four continuation bytes, then a final byte.
    assert.deepEqual([...code.subarray(r.offset, r.offset + 4)].map((b) => b >> 7), [1, 1, 1, 1]);
    assert.equal(code[r.offset + 4] >> 7, 0);
  }
});

Deno.test("assembleFragment() output as wasm-objdump sees it", {
  ...needs(tool("wasm-objdump")),
}, async (t) => {
  const dir = await tempDir();
  try {
    for (
      const [name, object] of [
        ["externref.o", await assembleFragment(externrefWat)],
        ["indirect.o", await assembleModule(indirectWat)],
      ] as const
    ) {
      await Deno.writeFile(`${dir}/${name}`, object);
      const dump = await run("wasm-objdump", ["-x", "-r", "-d", name], { cwd: dir });
      await t.step(name, async (t) => await t.assertSnapshot(dump.trim()));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the externref helpers linked by rust-lld behave like the same plain module", {
  ...needs(rustLld()),
}, async () => {
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/externref.o`, await assembleFragment(externrefWat));
    await rustLldWasm([
      "--no-entry",
      "--allow-undefined",
      "-o",
      `${dir}/linked.wasm`,
      fixture("asm/user.o"),
      `${dir}/externref.o`,
    ]);
    const linked = await exerciseExternref(await Deno.readFile(`${dir}/linked.wasm`));
    const plain = await exerciseExternref(await wat2wasm(PLAIN_EXTERNREF));
    assert.deepEqual(linked, plain);
    assert.deepEqual(linked, [2, 2, 5, 2, "hello", 7, true, true, null, "RuntimeError"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Rust code calls the assembled helpers by link_name after rust-lld links them", {
  ...needs(rustLld()),
}, async () => {
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/externref.o`, await assembleFragment(externrefWat));
    await rustLldWasm([
      "--no-entry",
      "--allow-undefined",
      "--export=rust_grow",
      "--export=rust_remove",
      "-o",
      `${dir}/linked.wasm`,
      fixture("asm/user_rs.o"),
      `${dir}/externref.o`,
    ]);
    const table = new WebAssembly.Table({
      initial: 2,
      element: "externref" as WebAssembly.TableKind,
    });
    const { instance } = await WebAssembly.instantiate(
      await Deno.readFile(`${dir}/linked.wasm`),
      { js_sys: { "externref.table": table }, env: { "js_sys.externref.next": () => 0 } },
    );
    // deno-lint-ignore no-explicit-any
    const e = instance.exports as any;
    assert.equal(e.rust_grow(3), 2);
    assert.equal(table.length, 5);
    table.set(4, "kept" as unknown as () => void);
    e.rust_remove(4);
    assert.equal(table.get(4), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("call_indirect, globals, multi-value blocks, return_call and exports survive linking", {
  ...needs(rustLld()),
}, async () => {
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/indirect.o`, await assembleModule(indirectWat));
    await rustLldWasm([
      "--no-entry",
      "-o",
      `${dir}/linked.wasm`,
      fixture("asm/indirect_user.o"),
      `${dir}/indirect.o`,
    ]);
    const { instance } = await WebAssembly.instantiate(
      await Deno.readFile(`${dir}/linked.wasm`),
      {},
    );
    // deno-lint-ignore no-explicit-any
    const e = instance.exports as any;
    assert.equal(e.apply_twice(21), 42);
    assert.equal(e.apply_square(7), 49);
    assert.equal(e.stack(), 65536);
    assert.equal(e.minus(10, 3), 7);
    assert.equal(e.call_helper(5), 105);
    assert.equal(e.helper(1), 101);
    assert.equal(e.helper_is_null(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wasm64 objects import a 64-bit __linear_memory and link with -mwasm64", {
  ...needs(rustLld()),
}, async () => {
  const fragment = `(func $store (@sym (name "asm.store")) (param $p i64) (param $v i32)
    (i32.store offset=4 (local.get $p) (local.get $v)))
  (func $load (export "load") (param $p i64) (result i32)
    (i32.load offset=4 (local.get $p)))
  (func $both (export "both") (param $p i64) (param $v i32) (result i32)
    (call $store (@reloc) (local.get $p) (local.get $v))
    (call $load (@reloc) (local.get $p)))`;
  const object = await assembleFragment(fragment, { target: "wasm64" });
  const [memory] = readImports(WasmModule.parse(object));
  assert.equal(memory.kind, "memory");
  assert.equal(`${memory.module}.${memory.name}`, "env.__linear_memory");
  assert.ok(memory.kind === "memory" && memory.memory.is64);
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/a.o`, object);
    await rustLldWasm(["-mwasm64", "--no-entry", "-o", `${dir}/a.wasm`, `${dir}/a.o`]);
    const { instance } = await WebAssembly.instantiate(await Deno.readFile(`${dir}/a.wasm`), {});
    // deno-lint-ignore no-explicit-any
    const e = instance.exports as any;
    assert.equal(e.both(16n, 1234), 1234);
    assert.equal(e.load(16n), 1234);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flat operands inside folded instructions (as js-sys writes them) assemble and link", {
  ...needs(rustLld()),
}, async () => {
  // js-sys's i128 helper: memory instructions without a declared memory, and `local.get`s
  // written flat inside `(i64.store ...)`, which the wast crate accepts and wabt does not.
  const numeric = await Deno.readTextFile(fixture("asm/numeric.wat"));
  const caller = `(module (@rwat)
    (import "env" "js_sys.numeric.128" (func $js_sys.numeric.128 (@sym) (param i64 i64 i32)))
    (func (export "split") (param $v i64) (param $out i32)
      (call $js_sys.numeric.128 (@reloc) (local.get $v) (i64.shr_s (local.get $v) (i64.const 63))
        (local.get $out))))`;
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/numeric.o`, await assembleFragment(numeric));
    await Deno.writeFile(`${dir}/caller.o`, await assembleModule(caller));
    await rustLldWasm(["--no-entry", "-o", `${dir}/a.wasm`, `${dir}/caller.o`, `${dir}/numeric.o`]);
    const { instance } = await WebAssembly.instantiate(await Deno.readFile(`${dir}/a.wasm`), {});
    // deno-lint-ignore no-explicit-any
    const e = instance.exports as any;
    e.split(-5n, 1024);
    const view = new DataView((e.memory as WebAssembly.Memory).buffer);
    assert.equal(view.getBigInt64(1024, true), -5n);
    assert.equal(view.getBigInt64(1032, true), -1n);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("relocations land on the right bytes after every kind of immediate", {
  ...needs(rustLld()),
}, async () => {
  const object = await assembleFragment(await Deno.readTextFile(fixture("asm/shapes.wat")));
  const m = WasmModule.parse(object);
  const code = m.section(10)!.payload;
  const relocs = readRelocs(m, m.section("reloc.CODE")!).entries;
  assert.equal(relocs.length, 3);
  for (const r of relocs) assert.equal(code[r.offset - 1], 0x10, "a call opcode before each");
  const dir = await tempDir();
  try {
    await Deno.writeFile(`${dir}/shapes.o`, object);
    await rustLldWasm(["--no-entry", "-o", `${dir}/a.wasm`, `${dir}/shapes.o`]);
    const { instance } = await WebAssembly.instantiate(await Deno.readFile(`${dir}/a.wasm`), {});
    // deno-lint-ignore no-explicit-any
    const e = instance.exports as any;
    assert.deepEqual([e.shapes(0), e.shapes(1), e.shapes(7)], [126, 225, 225]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("(@sym) takes escaped names and the weak, hidden, retain and export flags", async () => {
  const object = await assembleFragment(`
    (import "env" "x" (func $x (@sym (name "caf\\u{e9}.\\41\\t"))))
    (import "env" "same" (func $same (@sym)))
    (func $f (@sym weak hidden) call $x (@reloc) call $same (@reloc))
    (func $g (@sym retain export (name "g.name")))
    (func $local)
    (global $counter (@sym) (mut i32) (i32.const 0))
    (table $t (@sym hidden) 1 externref)`);
  const { symbols } = readLinking(WasmModule.parse(object))!;
  assert.deepEqual(symbols.map((s) => [s.kind, s.name, s.flags, s.index]), [
    [0, "caf\u00e9.A\t", SymbolFlags.undefined | SymbolFlags.explicitName, 0],
    [0, undefined, SymbolFlags.undefined, 1],
    [0, "f", SymbolFlags.weak | SymbolFlags.hidden, 2],
    [0, "g.name", SymbolFlags.noStrip | SymbolFlags.exported, 3],
    [0, "local", SymbolFlags.local, 4],
    [5, "t", SymbolFlags.hidden, 0],
    [2, "counter", 0, 0],
  ]);
});

/** Bad fragments: each must fail with this line:column and message part. */
const BAD: { name: string; text: string; at: [number, number]; says: string }[] = [
  {
    name: "syntax error",
    text: "(func $f (@sym)\n  i32.const 1\n  i32.ad)",
    at: [3, 3],
    says: "unexpected token",
  },
  {
    name: "unknown call target",
    text: "(func $f (@sym)\n  call $missing (@reloc))",
    at: [2, 8],
    says: 'undefined function variable "$missing"',
  },
  {
    name: "@reloc after an instruction without an index",
    text: "(func $f (@sym) (result i32)\n  i32.const 1 (@reloc))",
    at: [2, 15],
    says: "`i32.const` takes no function, table or global index",
  },
  {
    name: "@reloc missing on a call",
    text: "(func $g)\n(func $f (@sym)\n  call $g)",
    at: [3, 3],
    says: "`call` needs (@reloc)",
  },
  {
    name: "@sym on a memory",
    text: '(import "env" "m" (memory $m (@sym) 1))',
    at: [1, 30],
    says: "(@sym) is not supported on a memory",
  },
  {
    name: "@sym inside a body",
    text: "(func $f\n  nop (@sym))",
    at: [2, 7],
    says: "(@sym) is not allowed inside a function body",
  },
  {
    name: "@sym without a name",
    text: "(func (@sym) nop)",
    at: [1, 7],
    says: "needs a name",
  },
  {
    name: "unknown @sym argument",
    text: "(func $f (@sym strong))",
    at: [1, 16],
    says: "Unknown (@sym) argument",
  },
  {
    name: "extra closing parenthesis",
    text: "(func $f))\n(func $g)",
    at: [1, 10],
    says: "Unbalanced `)`",
  },
  {
    name: "unclosed string",
    text: '(import "env" "x (func $f))',
    at: [1, 15],
    says: "Unclosed string",
  },
  {
    name: "data segment",
    text: '(memory 1)\n(data (i32.const 0) "hi")',
    at: [2, 1],
    says: "Data segments are not supported",
  },
  {
    name: "exception tag",
    text: "(tag $e (param i32))\n(func $f (@sym) (throw $e (i32.const 1)))",
    at: [1, 1],
    says: "Exception tags are not supported",
  },
  {
    name: "global initialized from another global",
    text: '(import "env" "base" (global $base i32))\n(global $g (@sym) i32 (global.get $base))',
    at: [2, 24],
    says: "`global.get` in an initializer is not supported",
  },
  {
    name: "a whole module instead of fields",
    text: "(module\n  (func $f (@sym)))",
    at: [1, 1],
    says: "holds module fields, not a whole `(module ...)`",
  },
  {
    name: "validation error",
    text: "(func $f (@sym) (result i32)\n  i64.const 1)",
    at: [2, 3],
    says: "type mismatch",
  },
];

for (const bad of BAD) {
  Deno.test(`assembleFragment() rejects a fragment: ${bad.name}`, async (t) => {
    const err = await assembleFragment(bad.text, {
      file: "libdemo.rlib",
      member: "demo-1.o",
      record: 3,
    }).then(() => undefined, (e) => e);
    assert.ok(err instanceof AsmError, `expected an AsmError, got ${err}`);
    assert.deepEqual([err.line, err.column], bad.at, err.message);
    assert.ok(err.detail.includes(bad.says), err.detail);
    assert.equal(err.message.split("\n").length, 1);
    assert.ok(
      err.message.startsWith(
        `Cannot assemble js_bindgen.wat record 3 of "libdemo.rlib(demo-1.o)" at ${err.line}:${err.column}: `,
      ),
      err.message,
    );
    assert.ok(err.frame.split("\n").some((l) => l.startsWith(`> ${bad.at[0]} |`)), err.frame);
    await t.assertSnapshot(`${err.message}\n${err.frame}`);
  });
}

Deno.test("assembleModule() needs the (@rwat) header and reports positions in the module text", async () => {
  const missing = await assembleModule("(module (func))").then(() => undefined, (e) => e);
  assert.ok(missing instanceof AsmError && missing.detail.includes("(@rwat)"));
  const text = "(module (@rwat)\n  (func $f (@sym)\n    call $nope (@reloc)))";
  for (const target of ["wasm32", "wasm64"] as const) {
    const err = await assembleModule(text, { file: "in.wat", target }).then(() => 0, (e) => e);
    assert.ok(err instanceof AsmError);
    assert.deepEqual([err.line, err.column], [3, 10]);
    assert.ok(err.message.startsWith('Cannot assemble "in.wat" at 3:10: '), err.message);
  }
});

Deno.test("checkWatFragments() reports every bad fragment at once", async () => {
  const errors = await checkWatFragments([
    { text: externrefWat, file: "a.o", record: 1 },
    { text: "(func $f (@sym) i32.ad)", file: "a.o", record: 2 },
    { text: "(func $g (@sym))", file: "lib.rlib", member: "b.o", record: 1 },
    { text: "(func $h (@sym) call $h)", file: "lib.rlib", member: "b.o", record: 2 },
  ]);
  assert.deepEqual(
    errors.map((e) => [e.file, e.member, e.record, e.line, e.column]),
    [["a.o", undefined, 2, 1, 17], ["lib.rlib", "b.o", 2, 1, 17]],
  );
});

Deno.test("assembling the same text twice gives the same bytes", async () => {
  assert.deepEqual(await assembleFragment(externrefWat), await assembleFragment(externrefWat));
});

Deno.test("linkpass asm writes the object, and on an error writes nothing and exits 1", async () => {
  const dir = await tempDir();
  try {
    assert.equal(await main(["asm", fixture("asm/indirect.wat"), "-o", `${dir}/in.o`]), 0);
    assert.deepEqual(await Deno.readFile(`${dir}/in.o`), await assembleModule(indirectWat));
    assert.equal(
      await main(["asm", "--fragment", fixture("asm/externref.wat"), "-o", `${dir}/x.o`]),
      0,
    );
    await Deno.writeTextFile(`${dir}/bad.wat`, "(module (@rwat) (func i32.ad))");
    const errors: string[] = [];
    const original = console.error;
    console.error = (msg: string) => errors.push(msg);
    try {
      assert.equal(await main(["asm", `${dir}/bad.wat`, "-o", `${dir}/bad.o`]), 1);
    } finally {
      console.error = original;
    }
    // The code frame comes first, then the one error line (as for every error with details).
    assert.match(
      errors.join("\n"),
      /^> 1 \| .*\n.*\^+\nerror: Cannot assemble ".*bad\.wat" at 1:23: /,
    );
    await assert.rejects(() => Deno.stat(`${dir}/bad.o`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
