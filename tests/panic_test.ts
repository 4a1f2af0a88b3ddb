/**
 * The `panic` pass on real Rust modules: results of non-panicking calls stay the same, panics trap
 * or report their source location to a JS hook, roots are found in every symbol style, and modules
 * the pass cannot handle safely are refused with a clear message.
 */
import assert from "node:assert/strict";
import binaryen from "binaryen";
import { main } from "../cli.ts";
import { readNames } from "../wasm/custom.ts";
import {
  panic,
  type PanicOptions,
  type PanicRoot,
  PassError,
  readModule,
  runPipeline,
  stripCustomSections,
  UsageError,
} from "../mod.ts";
import { renameFunctions, styles } from "./_rust_names.ts";
import { canonicalPath, loadDemangler } from "../passes/_demangle.ts";
import { matchRoot } from "../passes/_panic_roots.ts";
import { codeConstants, compactImmediates, ValueSet } from "../passes/_panic_bytes.ts";
import { DataImage } from "../passes/_panic_data.ts";
import { pathToFileURL } from "node:url";
import { fixture, needs, run, tool } from "./_tools.ts";
import { wat as wabtWat } from "./_wat.ts";

import { call, type Exports, type Hook, instantiate, MODULES } from "./_calls.ts";

interface PanicReport {
  rootsFound: number;
  roots: PanicRoot[];
  codeBytesBefore: number;
  codeBytesAfter: number;
  functionsRemoved: number;
  deadData: { total: number };
  warnings?: string[];
  hook?: { import: string; roots: number };
}

async function runPanic(bytes: Uint8Array, options: PanicOptions, file?: string) {
  const result = await runPipeline(bytes, [panic(options)], { file });
  return { bytes: result.bytes, report: result.report.passes[0].report as unknown as PanicReport };
}

for (const [file, calls] of MODULES) {
  for (const mode of ["trap", "hook"] as const) {
    Deno.test(`panic(${mode}) on ${file}: same results, panics still trap`, async () => {
      const input = await Deno.readFile(fixture(file));
      const { bytes, report } = await runPanic(input, { mode }, file);
      assert.ok(report.rootsFound >= 10, `roots found: ${report.rootsFound}`);
      assert.ok(report.functionsRemoved > 30);
      const before = instantiate(input);
      const after = instantiate(bytes);
      let traps = 0;
      for (const [name, args] of calls) {
        const expected = call(before, name, args);
        assert.deepEqual(call(after, name, args), expected, `${name}(${args})`);
        if (expected === "trap") traps++;
      }
      assert.ok(traps >= 3, "the fixture exercises panicking paths");
      const code = readModule(bytes).section(10)!.payload.length;
      assert.equal(report.codeBytesAfter, code, "the report gives the output's code bytes");
    });
  }
}

for (const file of ["panic/small_z.wasm", "panic/hooked_z.wasm"]) {
  Deno.test(`panic(trap) shrinks the code of ${file}, which formats only through panics, by ≥ 85%`, async () => {
    const input = await Deno.readFile(fixture(file));
    const { report } = await runPanic(input, { mode: "trap" });
    const shrink = 1 - report.codeBytesAfter / report.codeBytesBefore;
    assert.ok(shrink >= 0.85, `code shrank by ${(100 * shrink).toFixed(1)}%`);
    assert.ok(report.deadData.total > 0, "Location records and file names are counted as dead");
  });
}

Deno.test("panic on hooked_z.wasm: core::fmt was reachable only through panics", async () => {
  const marks = await markedLocations();
  const input = await Deno.readFile(fixture("panic/hooked_z.wasm"));
  // Without the pass, the same DCE keeps the formatting machinery: the panic hook uses it.
  const dceOnly = (await runPipeline(input, [{
    name: "dce",
    description: "remove-unused-module-elements",
    level: "ir",
    run: (ir) => void ir.runPasses(["remove-unused-module-elements"]),
  }])).bytes;
  const code = (b: Uint8Array) => readModule(b).section(10)!.payload.length;
  assert.ok(code(dceOnly) > 0.5 * code(input), "DCE alone keeps most of the code");
  const panicking = (bytes: Uint8Array) => {
    const seen: string[] = [];
    const e = instantiate(bytes, seen);
    e.init();
    assert.equal(call(e, "checked_div", [1, 0]), "trap");
    return seen;
  };
  assert.deepEqual(panicking(input), [
    `message: panicked at 'called \`Option::unwrap()\` on a \`None\` value', ${
      marks.get("checked_div")
    }`,
  ]);
  assert.deepEqual(panicking((await runPanic(input, { mode: "trap" })).bytes), []);
  assert.deepEqual(panicking((await runPanic(input, { mode: "hook" })).bytes), [
    marks.get("checked_div"),
  ]);
});

/** Expected file:line:col of each marked panic in small.rs (column of the marked token). */
async function markedLocations(): Promise<Map<string, string>> {
  const source = await Deno.readTextFile(fixture("panic/small.rs"));
  const out = new Map<string, string>();
  source.split("\n").forEach((text, i) => {
    const m = /\/\/ PANIC:(\w+):(.+)$/.exec(text);
    if (m) out.set(m[1], `small.rs:${i + 1}:${text.indexOf(m[2]) + 1}`);
  });
  return out;
}

for (const file of ["panic/small_z.wasm", "panic/small_2.wasm"]) {
  Deno.test(`panic(hook) on ${file} reports the panic's file:line:col, then traps`, async () => {
    const marks = await markedLocations();
    const input = await Deno.readFile(fixture(file));
    const { bytes, report } = await runPanic(input, { mode: "hook" });
    assert.deepEqual(report.hook?.import, "linkpass/panic");
    const cases: [string, number[]][] = [
      ["checked_div", [1, 0]],
      ["table_at", [8]],
      ["parse_positive", [-1]],
    ];
    for (const [name, args] of cases) {
      const seen: string[] = [];
      assert.equal(call(instantiate(bytes, seen), name, args), "trap");
      assert.deepEqual(seen, [marks.get(name)], name);
    }
    // Rust 1.63's slice index failures take no Location: they trap without the hook, and the
    // report says why.
    const seen: string[] = [];
    assert.equal(call(instantiate(bytes, seen), "prefix_sum", [9]), "trap");
    assert.deepEqual(seen, []);
    const slice = report.roots.find((r) =>
      r.path === "core::slice::index::slice_end_index_len_fail"
    );
    assert.equal(slice?.action, "trap");
    assert.match(slice!.location!, /^trap: /);
    // Non-panicking calls never reach the hook.
    const quiet: string[] = [];
    assert.equal(call(instantiate(bytes, quiet), "checked_div", [9, 3]), 3);
    assert.deepEqual(quiet, []);
  });
}

Deno.test("panic(hook) imports the hook under the name given", async () => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  const { bytes } = await runPanic(input, { mode: "hook", hook: "env/onPanic" });
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as BufferSource));
  assert.deepEqual(imports, [{ module: "env", name: "onPanic", kind: "function" }]);
});

// ---- Symbol styles -------------------------------------------------------------------------

Deno.test("panic finds the same roots in every symbol style Rust emits", async (t) => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  const legacy = await runPanic(input, { mode: "trap" });
  const expected = legacy.report.roots.map((r) => r.path).sort();
  for (const [style, rename] of Object.entries(await styles())) {
    await t.step(style, async () => {
      const renamed = renameFunctions(input, rename);
      const names = [...readNames(readModule(renamed))!.functions.values()];
      if (style === "crate-hash") {
        assert.ok(names.some((n) => /^core\[[0-9a-f]+\]::panicking::panic_fmt$/.test(n)));
        assert.ok(names.some((n) => /^__rustc\[[0-9a-f]+\]::rust_begin_unwind$/.test(n)));
      }
      if (style === "v0 mangled") {
        const v0 = names.filter((n) => n.startsWith("_R"));
        assert.ok(v0.length >= 6, `renamed to v0: ${v0.length}`);
        assert.ok(v0.includes("_RNvCsfLfy6EI15iL_7___rustc17rust_begin_unwind"));
        assert.ok(v0.includes("_RNvNtCsgEmfK2I1SDS_4core9panicking9panic_fmt"));
      }
      const { bytes, report } = await runPanic(renamed, { mode: "trap" });
      // Newer toolchains put the panic-handler symbols in the `__rustc` namespace.
      const paths = report.roots.map((r) => r.path.replace(/^__rustc::/, "")).sort();
      assert.deepEqual(paths, expected);
      assert.equal(report.codeBytesAfter, legacy.report.codeBytesAfter);
      assert.equal(call(instantiate(bytes), "sum_to", [10]), 55n);
      assert.equal(call(instantiate(bytes), "checked_div", [1, 0]), "trap");
    });
  }
});

// ---- Functions that return normally, refusals ------------------------------------------------

/** A tiny module with Rust-style names, from WAT. */
function wat(text: string): Uint8Array {
  const m = binaryen.parseText(text);
  m.setFeatures(binaryen.Features.All);
  binaryen.setDebugInfo(true);
  const bytes = m.emitBinary();
  m.dispose();
  return bytes;
}

Deno.test("panic never touches functions that return normally, whatever their names", async () => {
  const bytes = wat(`(module
    (global $flag (mut i32) (i32.const 7))
    (func $_ZN3std9panicking9panicking17h0123456789abcdefE (result i32) (global.get $flag))
    (func $core::panicking::panic_fmt::h0123456789abcdef (param i32 i32)
      (global.set $flag (local.get 0)))
    (func $rust_begin_unwind (param i32) (global.set $flag (i32.const 1))
      (drop (call $__rust_start_panic (local.get 0))) (unreachable))
    (func $__rust_start_panic (param i32) (result i32) (global.set $flag (i32.const 2)) (unreachable))
    (func $is_panicking (export "is_panicking") (result i32)
      (call $_ZN3std9panicking9panicking17h0123456789abcdefE))
    (func $set (export "set") (param i32)
      (call $core::panicking::panic_fmt::h0123456789abcdef (local.get 0) (i32.const 0)))
    (func $boom (export "boom") (call $rust_begin_unwind (i32.const 0))))`);
  const { bytes: out, report } = await runPanic(bytes, { mode: "trap" });
  assert.deepEqual(report.roots.map((r) => r.path), ["rust_begin_unwind", "__rust_start_panic"]);
  assert.deepEqual(report.warnings, [
    `"core::panicking::panic_fmt::h0123456789abcdef" is named like a panic root but its body can complete normally; left alone`,
  ]);
  const e = instantiate(out);
  assert.equal(e.is_panicking(), 7);
  e.set(42);
  assert.equal(e.is_panicking(), 42);
  assert.equal(call(e, "boom", []), "trap");
  assert.equal(e.is_panicking(), 42, "the trapped root no longer runs its body");
});

async function failure(bytes: Uint8Array, options: PanicOptions, file: string): Promise<string> {
  const e = await runPipeline(bytes, [panic(options)], { file }).then(
    () => assert.fail("expected the pass to refuse"),
    (e) => e,
  );
  assert.ok(e instanceof PassError && e.cause instanceof UsageError, String(e));
  return (e.cause as UsageError).message;
}

Deno.test("panic refuses a module without names and says how to keep them", async (t) => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  const stripped = (await runPipeline(input, [stripCustomSections({ remove: ["names"] })])).bytes;
  const message = await failure(stripped, { mode: "trap" }, "app.wasm");
  await t.assertSnapshot(message);
});

Deno.test("panic refuses relocatable objects in hook mode and with the binaryen engine", async () => {
  const object = await Deno.readFile(fixture("rust_objects/lib.o"));
  for (const options of [{ mode: "hook" }, { mode: "trap", engine: "binaryen" }] as const) {
    assert.match(await failure(object, options, "lib.o"), /^"lib.o" is a relocatable object/);
  }
});

Deno.test("panic refuses panic=unwind modules unless --allow-unwind-change", async (t) => {
  const bytes = wat(`(module
    (import "wbg" "__wbindgen_jstag" (tag $js (param externref)))
    (tag $rust (param i32))
    (func $rust_begin_unwind (param i32) (throw $rust (local.get 0)))
    (func $run (export "run") (param i32) (result i32)
      (if (local.get 0) (then (call $rust_begin_unwind (i32.const 1))))
      (i32.const 5)))`);
  await t.assertSnapshot(await failure(bytes, { mode: "trap" }, "unwind.wasm"));
  const { bytes: out, report } = await runPanic(bytes, { mode: "trap", allowUnwindChange: true });
  assert.equal(report.rootsFound, 1);
  const { Tag } = WebAssembly as unknown as {
    Tag: new (type: { parameters: string[] }) => WebAssembly.ImportValue;
  };
  const tag = new Tag({ parameters: ["externref"] });
  const m = new WebAssembly.Module(out as BufferSource);
  const e = new WebAssembly.Instance(m, { wbg: { __wbindgen_jstag: tag } }).exports as Exports;
  assert.equal(e.run(0), 5);
  assert.throws(
    () => e.run(1),
    WebAssembly.RuntimeError,
    "the panic now traps instead of throwing",
  );
});

Deno.test("panic options are checked when the pass is made", () => {
  assert.throws(() => panic({ mode: "abort" as "trap" }), RangeError);
  assert.throws(() => panic({ mode: "hook", hook: "env/" }), RangeError);
  assert.throws(() => panic({ mode: "hook", hook: { module: "", name: "f" } }), RangeError);
});

Deno.test("cli opt --panic runs the pass and reports it in JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out.wasm`;
    const logged: string[] = [];
    const log = console.log;
    console.log = (s: string) => logged.push(s);
    let code: number;
    try {
      code = await main([
        "opt",
        fixture("panic/small_z.wasm"),
        "-o",
        out,
        "--panic",
        "hook",
        "--panic-hook",
        "env/on_panic",
        "--report",
        "json",
      ]);
    } finally {
      console.log = log;
    }
    assert.equal(code, 0);
    const report = JSON.parse(logged.join("\n"));
    assert.equal(report.passes[0].name, "panic");
    assert.equal(report.passes[0].report.hook.import, "env/on_panic");
    const seen: string[] = [];
    assert.equal(call(instantiate(await Deno.readFile(out), seen), "table_at", [9]), "trap");
    assert.equal(seen.length, 1);
    const error = console.error;
    console.error = () => {};
    try {
      assert.equal(
        await main(["opt", fixture("panic/small_z.wasm"), "-o", out, "--panic", "x"]),
        2,
      );
      assert.equal(
        await main(["opt", fixture("panic/small_z.wasm"), "-o", out, "--allow-unwind-change"]),
        2,
      );
    } finally {
      console.error = error;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- A real wasm-bindgen package from npm that keeps its names -------------------------------

const VERKLE = "rust-verkle-wasm@0.0.1";
const npm = tool("npm");

// deno-lint-ignore no-explicit-any
type Glue = any;

/** Runs the package's own API on fixed inputs; panics come back as "trap". */
function verkleOutputs(g: Glue): unknown[] {
  const fr = (s: string) => g.FrWrapper.fromDecimalString(s);
  const hex = (x: { toHexString(): string }) => x.toHexString();
  const cases: (() => unknown)[] = [
    () => hex(fr("123456789")),
    () => hex(g.fr_add(fr("123456789"), fr("987654321"))),
    () => hex(g.fr_sub(fr("123456789"), fr("987654321"))),
    () => hex(g.fr_mul(fr("123456789"), fr("987654321"))),
    () => hex(g.fr_div(fr("123456789"), fr("987654321"))),
    () => hex(g.fr_square(fr("31415926535"))),
    () => hex(g.ElementWrapper.generator()),
    () => hex(g.ElementWrapper.scalarMul(g.ElementWrapper.generator(), fr("42"))),
    () => [...g.ElementWrapper.generator().toBytes()].join(","),
    () => hex(g.ElementWrapper.fromBytes(g.ElementWrapper.generator().toBytes())),
    () => hex(g.FrWrapper.fromBytes(new Uint8Array(3))), // an Err: a JS exception
    () => hex(g.ElementWrapper.fromBytes(new Uint8Array(32).fill(255))), // an Err
    () => hex(g.FrWrapper.fromBytes(new Uint8Array(32).fill(255))), // panics (unwrap)
    () => hex(g.fr_div(fr("1"), fr("0"))), // panics
  ];
  return cases.map((f) => {
    try {
      return f();
    } catch (e) {
      return e instanceof WebAssembly.RuntimeError ? "trap" : `error: ${e}`;
    }
  });
}

/** Loads a fresh copy of the package's glue with `wasm`; a hook import is added when needed. */
async function loadVerkle(web: string, wasm: Uint8Array, tag: string, seen: string[]) {
  // Deno ignores the query of modules under node_modules, so each copy of the glue (a
  // self-contained ES module with module-level state) gets a file of its own.
  const copy = `${web}/../../../glue_${tag}.js`;
  await Deno.copyFile(`${web}/rust_verkle_wasm.js`, copy);
  const g = await import(pathToFileURL(copy).href);
  const Instance = WebAssembly.Instance;
  const state: { memory?: WebAssembly.Memory } = {};
  const hook: Hook = (ptr, len, line, col) => {
    const view = new Uint8Array(state.memory!.buffer, ptr >>> 0, len >>> 0);
    seen.push(`${new TextDecoder().decode(view)}:${line}:${col}`);
  };
  // The glue builds its import object itself; add the hook's module on the way in.
  const withHook = function (m: WebAssembly.Module, imports: WebAssembly.Imports) {
    const instance = new Instance(m, { ...imports, linkpass: { panic: hook } });
    state.memory = instance.exports.memory as WebAssembly.Memory;
    return instance;
  };
  (WebAssembly as { Instance: unknown }).Instance = withHook;
  try {
    g.initSync(wasm);
  } finally {
    (WebAssembly as { Instance: unknown }).Instance = Instance;
  }
  return g;
}

Deno.test(
  `panic on ${VERKLE}: the package's own API gives the same outputs`,
  needs(npm),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass-npm-" });
    try {
      await run(npm!, ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, VERKLE]);
      const web = `${dir}/node_modules/rust-verkle-wasm/web`;
      const input = await Deno.readFile(`${web}/rust_verkle_wasm_bg.wasm`);
      const names = [...readNames(readModule(input))!.functions.values()];
      assert.ok(names.some((n) => /^core::panicking::panic_fmt::h[0-9a-f]{16}$/.test(n)));
      const expected = verkleOutputs(await loadVerkle(web, input, "before", []));
      assert.deepEqual(expected.slice(-2), ["trap", "trap"], "the panicking calls trap");
      assert.equal(expected.filter((o) => String(o).startsWith("error:")).length, 2);
      // The byte engine's code within 1% of binaryen's, as on the fixtures.
      const ir = await runPanic(input, { mode: "trap", engine: "binaryen" }, VERKLE);
      for (const mode of ["trap", "hook"] as const) {
        const { bytes, report } = await runPanic(input, { mode }, VERKLE);
        if (mode === "trap") {
          assert.ok(
            report.codeBytesAfter <= ir.report.codeBytesAfter * 1.01,
            `bytes ${report.codeBytesAfter} vs binaryen ${ir.report.codeBytesAfter}`,
          );
        }
        assert.ok(report.rootsFound >= 20, `roots: ${report.rootsFound}`);
        assert.ok(report.functionsRemoved > 0 && report.codeBytesAfter < report.codeBytesBefore);
        const seen: string[] = [];
        assert.deepEqual(verkleOutputs(await loadVerkle(web, bytes, mode, seen)), expected);
        if (mode === "hook") {
          assert.equal(seen.length, 2, "each panic reached the hook");
          for (const where of seen) assert.match(where, /\.rs:\d+:\d+$/);
        } else assert.deepEqual(seen, []);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("panic reports roots, counts, code bytes and dead data (golden)", async (t) => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  for (const mode of ["trap", "hook"] as const) {
    await t.assertSnapshot((await runPanic(input, { mode })).report);
  }
});

Deno.test("root classification by canonical path, in every style, with near misses", async () => {
  const demangle = await loadDemangler();
  const roots: [string, string][] = [
    ["_ZN4core9panicking9panic_fmt17h9ec1c8305a7da9aeE", "core::panicking::panic_fmt"],
    ["_RNvNtCsgEmfK2I1SDS_4core9panicking9panic_fmt", "core::panicking::panic_fmt"],
    ["core::panicking::panic_fmt::h9ec1c8305a7da9ae", "core::panicking::panic_fmt"],
    ["core[9fdf64a6790eadef]::panicking::panic_fmt", "core::panicking::panic_fmt"],
    ["__rustc[5224e6b81cd82a8f]::rust_begin_unwind", "__rustc::rust_begin_unwind"],
    ["_RNvCsfLfy6EI15iL_7___rustc17rust_begin_unwind", "__rustc::rust_begin_unwind"],
    ["_RINvNtCsjrHSEGnQ3l9_3std9panicking11begin_panicReEB4_", "std::panicking::begin_panic"],
    [
      "_RNvNtNtCsgEmfK2I1SDS_4core9panicking11panic_const23panic_const_div_by_zero",
      "core::panicking::panic_const::panic_const_div_by_zero",
    ],
    ["_ZN4core6option13expect_failed17h5194e2f253f4cb2fE", "core::option::expect_failed"],
    ["core::result::unwrap_failed::h5423ebf1228e2e2b", "core::result::unwrap_failed"],
    [
      "_ZN5alloc7raw_vec17capacity_overflow17h1b2c3d4e5f607182E",
      "alloc::raw_vec::capacity_overflow",
    ],
    [
      "alloc::alloc::handle_alloc_error::rt_error::h0123456789abcdef",
      "alloc::alloc::handle_alloc_error::rt_error",
    ],
    [
      "core::slice::index::slice_end_index_len_fail_rt::h5cd3c10052096a4a",
      "core::slice::index::slice_end_index_len_fail_rt",
    ],
    ["_ZN4core3str16slice_error_fail17hae74903af18414a4E.llvm.123", "core::str::slice_error_fail"],
    ["__rust_start_panic", "__rust_start_panic"],
  ];
  for (const [name, path] of roots) {
    assert.equal(canonicalPath(name, demangle), path, name);
    assert.ok(matchRoot(path), `${path} is a root`);
  }
  const notRoots = [
    "_ZN3std9panicking9panicking17h0123456789abcdefE",
    "std::panicking::panic_count::increase::h0123456789abcdef",
    "std::panicking::begin_panic_handler::{{closure}}::h6790f5cd6e28c7f2",
    "<core::panic::panic_info::PanicInfo as core::fmt::Display>::fmt::he0c28d4d6d126fe0",
    "core::panic::panic_info::PanicInfo::location::h0123456789abcdef",
    "console_error_panic_hook::hook::h7d3009bc65e04b49",
    "std::panicking::set_hook::heed1db476969b38a",
    "_RNvNtCsjrHSEGnQ3l9_3std9panicking12default_hook",
    "_RNvNtCsjrHSEGnQ3l9_3std9panicking14payload_as_str",
    "core::option::Option<T>::unwrap::h1a4e9d5061d6ec46",
    "my_crate::panic_button",
  ];
  for (const name of notRoots) {
    const path = canonicalPath(name, demangle);
    assert.equal(matchRoot(path), undefined, `${name} → ${path} is not a root`);
  }
});

for (const [file, calls] of MODULES) {
  Deno.test(`panic byte engine on ${file}: code within 1% of binaryen's or smaller, never grows`, async () => {
    const input = await Deno.readFile(fixture(file));
    const bytes = await runPanic(input, { mode: "trap", engine: "bytes" });
    const ir = await runPanic(input, { mode: "trap", engine: "binaryen" });
    assert.equal(bytes.report.rootsFound, ir.report.rootsFound, "the same roots");
    // The same bound on every fixture: hooked_z was 1.8% over (2,460 vs 2,416 bytes) until the
    // byte engine re-encoded the LEBs wasm-ld pads for relocations, as binaryen does.
    assert.ok(
      bytes.report.codeBytesAfter <= ir.report.codeBytesAfter * 1.01,
      `bytes ${bytes.report.codeBytesAfter} vs binaryen ${ir.report.codeBytesAfter}`,
    );
    assert.ok(bytes.report.codeBytesAfter < bytes.report.codeBytesBefore);
    const before = instantiate(input);
    const after = instantiate(bytes.bytes);
    for (const [name, args] of calls) {
      assert.deepEqual(call(after, name, args), call(before, name, args), `${name}(${args})`);
    }
  });
}

Deno.test("panic byte engine drops the dead code after a trapping call, nested blocks included", async () => {
  const wabt = await (await import("wabt")).default();
  const text = `(module
    (func $core::panicking::panic (param i32) unreachable)
    (func $f (export "f") (param i32) (result i32)
      (if (result i32) (local.get 0)
        (then
          (call $core::panicking::panic (i32.const 5))
          (try (do (nop)) (delegate 0))
          (block (loop (br_if 1 (local.get 0)) (br 0)))
          (if (local.get 0) (then (nop)) (else (nop)))
          (i32.const 7))
        (else (i32.const 9)))))`;
  const parsed = wabt.parseWat("t.wat", text, { exceptions: true });
  parsed.resolveNames();
  parsed.validate();
  const input = parsed.toBinary({ write_debug_names: true }).buffer;
  parsed.destroy();
  const { bytes, report } = await runPipeline(input, [panic({ mode: "trap" })]);
  const r = report.passes[0].report as unknown as PanicReport;
  assert.equal(r.rootsFound, 1);
  assert.ok(WebAssembly.validate(bytes as BufferSource));
  const f = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource)).exports
    .f as (x: number) => number;
  assert.equal(f(0), 9);
  assert.throws(() => f(1), WebAssembly.RuntimeError);
  // f's `then` arm is now just `unreachable`: the constant operand and the dead code are gone
  assert.ok(
    r.codeBytesAfter < r.codeBytesBefore - 15,
    `${r.codeBytesBefore} -> ${r.codeBytesAfter}`,
  );
});

Deno.test("panic byte engine: the linker's padded LEBs are re-encoded in their shortest form", async () => {
  const wabt = await (await import("wabt")).default();
  const text = `(module
    (memory 1)
    (table 1 funcref)
    (type $t (func (result i32)))
    (func $f (param i32) (result i32) (local i32)
      (local.set 1 (i32.const -8))
      (drop (i32.const 1052992))
      (block (result i32)
        (i32.store offset=4 (i32.const 0) (local.get 0))
        (i32.add (i32.load offset=4 (i32.const 0)) (local.get 1))
        (br 0)))
    (func $g (result i64) (i64.sub (i64.const -1) (i64.const 0x7fffffffffff)))
    (func $h (result i32) (call_indirect (type $t) (i32.const 0))))`;
  const parsed = wabt.parseWat("t.wat", text);
  parsed.resolveNames();
  parsed.validate();
  const minimal = parsed.toBinary({}).buffer;
  parsed.destroy();
  const m = readModule(minimal);
  const code = m.section(10)!;
  const expected = code.payload.slice();
  // The same code as wasm-ld leaves it: every LEB padded to 5 bytes (10 for i64), sizes too.
  const u5 = (v: number) => [0, 7, 14, 21].map((s) => ((v >>> s) & 0x7f) | 0x80).concat(v >>> 28);
  const s5 = (v: number) =>
    [0, 7, 14, 21].map((s) => ((v >> s) & 0x7f) | 0x80).concat((v >> 28) & 0x7f);
  const f = [1, 1, 0x7f, 0x41, ...s5(-8), 0x21, ...u5(1), 0x41, ...s5(1052992), 0x1a, 0x02, 0x7f];
  f.push(0x41, ...s5(0), 0x20, ...u5(0), 0x36, ...u5(2), ...u5(4));
  f.push(0x41, ...s5(0), 0x28, ...u5(2), ...u5(4), 0x20, ...u5(1), 0x6a, 0x0c, ...u5(0), 0x0b);
  f.push(0x0b);
  const minusOne = [...Array(9).fill(0xff), 0x7f];
  const big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x9f, 0x80, 0x80, 0x00]; // 2^47 - 1
  const g = [0, 0x42, ...minusOne, 0x42, ...big, 0x7d, 0x0b];
  const h = [0, 0x41, ...s5(0), 0x11, ...u5(0), ...u5(0), 0x0b];
  const padded = [...u5(3), ...[f, g, h].flatMap((b) => [...u5(b.length), ...b])];
  m.setPayload(code, new Uint8Array(padded));
  const before = m.toBytes();
  assert.ok(WebAssembly.validate(before as BufferSource));
  const saved = compactImmediates(m);
  assert.equal(saved, padded.length - expected.length);
  assert.deepEqual([...m.section(10)!.payload], [...expected]);
  assert.equal(compactImmediates(m), 0, "nothing left to shrink");
});

Deno.test("codeConstants keeps exactly the constants inside the data when given the data's span", async () => {
  for (const name of ["panic/hooked_z.wasm", "panic/small_2.wasm"]) {
    const m = readModule(await Deno.readFile(fixture(name)));
    const code = m.section(10)!.payload;
    const [low, high] = new DataImage(m).span;
    assert.ok(low < high, `${name} has data`);
    const all = new ValueSet();
    const inData = new ValueSet();
    codeConstants(code, all);
    codeConstants(code, inData, low, high);
    // Every i32.const value read the unfiltered way, asked of both sets.
    const values: number[] = [];
    for (let i = 0; i < code.length; i++) if (code[i] === 0x41) values.push(...constantAt(code, i));
    let inside = 0;
    for (const v of values) {
      assert.ok(all.has(v));
      assert.strictEqual(inData.has(v), v >= low && v < high, `${name}: ${v}`);
      if (v >= low && v < high) inside++;
    }
    assert.ok(
      inside > 0 && inside < values.length,
      `${name}: ${inside} of ${values.length} inside`,
    );
  }
});

/** The signed LEB after the opcode at `at`, as an unsigned value (one element, or none if cut). */
function constantAt(code: Uint8Array, at: number): number[] {
  let result = 0, shift = 0, pos = at + 1, b = 0x80;
  while (b & 0x80 && pos < code.length && shift < 35) {
    b = code[pos++];
    result |= (b & 0x7f) << shift;
    shift += 7;
  }
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return [result >>> 0];
}

Deno.test("panic: a function named like a root that returns only after calling a root is a root too (no warning)", async () => {
  // As wasm-bindgen modules have them: the alloc error handler calls __rg_oom, then returns.
  const bytes = wat(`(module
    (func $__rg_oom (param i32 i32) (unreachable))
    (func $__rust_alloc_error_handler (param i32 i32)
      (call $__rg_oom (local.get 0) (local.get 1)) (return))
    (func $__rdl_alloc_error_handler (param i32 i32) (return))
    (func $grow (export "grow") (param i32) (result i32)
      (if (i32.gt_u (local.get 0) (i32.const 1000))
        (then (call $__rust_alloc_error_handler (local.get 0) (i32.const 8))))
      (if (i32.eq (local.get 0) (i32.const 7))
        (then (call $__rdl_alloc_error_handler (local.get 0) (i32.const 8))))
      (i32.mul (local.get 0) (i32.const 2))))`);
  for (const engine of ["bytes", "binaryen"] as const) {
    const { bytes: out, report } = await runPanic(bytes, { mode: "trap", engine });
    assert.deepEqual(
      report.roots.map((r) => r.path),
      ["__rg_oom", "__rust_alloc_error_handler"],
      engine,
    );
    // A body that returns without calling a root is still left alone, with its warning.
    assert.deepEqual(report.warnings, [
      `"__rdl_alloc_error_handler" is named like a panic root but its body contains a return; left alone`,
    ]);
    const e = instantiate(out);
    assert.equal(e.grow(21), 42);
    assert.equal(e.grow(7), 14);
    assert.throws(() => e.grow(5000), WebAssembly.RuntimeError);
  }
});

Deno.test("panic: with no root found, the warning says when most functions have no name", async () => {
  // wabt writes names only for the functions that have one: 2 of 6 here.
  const funcs = (named: boolean) =>
    Array.from(
      { length: 6 },
      (_, i) =>
        `(func ${named || i < 2 ? `$f${i}` : ""} (export "e${i}") (result i32) i32.const ${i})`,
    )
      .join("\n");
  const few = await runPanic(wabtWat(`(module ${funcs(false)})`), { mode: "trap" }, "few.wasm");
  assert.deepEqual(few.report.warnings?.length, 1);
  assert.match(
    few.report.warnings![0],
    /^no panic roots found in "few\.wasm"; nothing changed: only 2 of 6 functions have a name, .*keep names: build without stripping symbols/,
  );
  const all = await runPanic(wabtWat(`(module ${funcs(true)})`), { mode: "trap" }, "all.wasm");
  assert.deepEqual(all.report.warnings, ['no panic roots found in "all.wasm"; nothing changed']);
});
