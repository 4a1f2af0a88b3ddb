/**
 * js-glue: glue generated from real records (a Rust crate linked by wasm-ld, fixtures/glue) runs
 * the module in Deno and Node with the same output; the pass emits files and strips what it
 * consumed; every error is reported with names (and code frames); hostile names and snippets
 * cannot change the program; the output is deterministic; memories are created from limits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import wabtInit from "wabt";
import { generateGlue, GlueError } from "../glue/generate.ts";
import { encodeJsRecord, readJsRecords } from "../glue/records.ts";
import { jsGlue } from "../passes/js_glue.ts";
import { runPipeline } from "../pipeline.ts";
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { fixture, needs, thrown, tool } from "./_tools.ts";

const APP = fixture("glue/app.wasm");
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const NODE = tool("node");

/** What app.wasm prints (see fixtures/glue/app.rs). */
const APP_OUTPUT = [
  "hello from Rust",
  "JS array: [1.5,2,3.5]",
  "sum from JS: 7",
  "args: app.wasm",
];

/** A module from WAT, with extra custom sections. */
async function wat(text: string, sections: [string, Uint8Array[]][] = []): Promise<WasmModule> {
  const wabt = await wabtInit();
  const parsed = wabt.parseWat("t.wat", text, {
    reference_types: true,
    memory64: true,
    threads: true,
  });
  const bytes = new Uint8Array(parsed.toBinary({}).buffer);
  parsed.destroy();
  const module = WasmModule.parse(bytes);
  for (const [name, records] of sections) module.addCustomSection(name, concat(records));
  return WasmModule.parse(module.toBytes());
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const imp = (module: string, name: string, text: string, embeds: [string, string][] = []) =>
  encodeJsRecord({ module, name, text, embeds: embeds.map(([m, n]) => ({ module: m, name: n })) });

/** Writes the glue and the module into a temp dir; returns the dir. */
async function writeApp(module: WasmModule, stem = "app"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_glue_" });
  const result = await runPipeline(module.toBytes(), [jsGlue({ name: `${stem}.wasm` })]);
  await Deno.writeFile(join(dir, `${stem}.wasm`), result.bytes);
  for (const [name, contents] of result.files) {
    await Deno.writeTextFile(join(dir, name), contents as string);
  }
  return dir;
}

/** Imports a glue module with console.log captured while `run` runs. */
async function captureLog(
  run: () => Promise<unknown>,
): Promise<{ lines: string[]; value: unknown }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { value: await run(), lines };
  } finally {
    console.log = log;
  }
}

Deno.test("js-glue: the Rust fixture's glue runs main in Deno (externref array round trip)", async () => {
  const dir = await writeApp(WasmModule.parse(await Deno.readFile(APP)));
  const glue = await import(join(dir, "app.js"));
  const { lines, value } = await captureLog(async () => {
    const { exports } = await glue.JsBindgen.instantiateStreaming();
    return (exports.main as (a: number, b: number) => number)(0, 0);
  });
  assert.deepEqual(lines, [...APP_OUTPUT.slice(0, 3), "args:"]);
  assert.equal(value, -1);
  // The one-call form, with the sibling .wasm by default.
  const { lines: again } = await captureLog(async () => {
    const r = await glue.instantiate();
    assert.ok(r.memory instanceof WebAssembly.Memory);
    return (r.exports.main as (a: number, b: number) => number)(0, 0);
  });
  assert.deepEqual(again, lines);
});

Deno.test({
  name: "js-glue: the same glue runs in Node with the same output",
  ...needs(NODE),
  async fn() {
    const dir = await writeApp(WasmModule.parse(await Deno.readFile(APP)));
    await Deno.writeTextFile(
      join(dir, "main.mjs"),
      `import { JsBindgen } from "./app.js";
const { exports } = await JsBindgen.instantiateStreaming();
exports.main(0, 0);\n`,
    );
    const out = await new Deno.Command(NODE!, { args: ["main.mjs"], cwd: dir, stdout: "piped" })
      .output();
    assert.equal(out.code, 0);
    assert.deepEqual(new TextDecoder().decode(out.stdout).trimEnd().split("\n"), [
      ...APP_OUTPUT.slice(0, 3),
      "args:",
    ]);
  },
});

Deno.test("js-glue: golden glue and report for the fixtures", async (t) => {
  for (const name of ["app", "tests"]) {
    const module = WasmModule.parse(await Deno.readFile(fixture(`glue/${name}.wasm`)));
    const glue = generateGlue(module, { wasmFile: `${name}.wasm` });
    await t.assertSnapshot({ report: glue.report, js: glue.js });
  }
  const glue = generateGlue(WasmModule.parse(await Deno.readFile(APP)));
  await t.assertSnapshot(glue.dts);
  // Small WAT fixtures: a shared memory, a 64-bit memory under another name, names that need
  // string keys and escaping.
  const small: [string, string, [string, Uint8Array[]][]][] = [
    ["shared", `(module (import "js_bindgen" "memory" (memory 1 16 shared)))`, []],
    ["memory64", `(module (import "env" "memory" (memory i64 2 65536)))`, []],
    [
      "escaped names",
      `(module (import "a-b" "x y" (func)) (import "q" "a\\"b\\\\c</script>" (func)) (import "__proto__" "f" (func)))`,
      [["js_bindgen.import", [
        imp("a-b", "x y", "() => '</script>'"),
        imp("q", 'a"b\\c</script>', "(x) => x"),
        imp("__proto__", "f", "() => {}"),
      ]]],
    ],
  ];
  for (const [, text, sections] of small) {
    const { js } = generateGlue(await wat(text, sections));
    // Everything but the template's fixed part.
    await t.assertSnapshot(js.slice(0, js.indexOf("function createMemory")));
    await t.assertSnapshot(
      js.slice(js.indexOf("const jsEmbed = "), js.indexOf("  get importObject")),
    );
  }
});

Deno.test("js-glue: the pass emits <stem>.js/.d.ts, strips import/embed and keeps js_bindgen.test", async () => {
  const bytes = await Deno.readFile(fixture("glue/tests.wasm"));
  const result = await runPipeline(bytes, [jsGlue({ name: "dir/unit.wasm" })]);
  assert.deepEqual([...result.files.keys()], ["unit.js", "unit.d.ts"]);
  const out = WasmModule.parse(result.bytes);
  const names = out.customSections().map((s) => s.name);
  assert.ok(!names.includes("js_bindgen.import") && !names.includes("js_bindgen.embed"));
  assert.ok(names.includes("js_bindgen.test"));
  const report = result.report.passes[0].report;
  assert.deepEqual(report.missing, ["js_bindgen_test/set_message"]);
  assert.deepEqual(report.warnings, [
    'no JS snippet for import "js_bindgen_test/set_message": pass it to the glue\'s importObject',
  ]);
  assert.match(result.files.get("unit.js") as string, /const WASM_FILE = "unit\.wasm";/);
});

Deno.test("js-glue: opt --js-glue writes the glue next to -o", async () => {
  const dir = await Deno.makeTempDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "opt", APP, "-o", join(dir, "site.wasm"), "--js-glue"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(files, ["site.d.ts", "site.js", "site.wasm"]);
  const glue = await import(join(dir, "site.js"));
  const { lines } = await captureLog(async () => {
    const { exports } = await glue.instantiate();
    (exports.main as (a: number, b: number) => number)(0, 0);
  });
  assert.equal(lines[1], "JS array: [1.5,2,3.5]");
});

Deno.test("js-glue: rustc's objects carry the records wasm-ld concatenates", async () => {
  const object = WasmModule.parse(await Deno.readFile(fixture("glue/app.o")));
  const linked = WasmModule.parse(await Deno.readFile(APP));
  const key = (r: { kind: string; module: string; name: string; text: string }) =>
    `${r.kind} ${r.module}/${r.name} ${r.text}`;
  assert.deepEqual(readJsRecords(object).map(key).sort(), readJsRecords(linked).map(key).sort());
  assert.equal(readJsRecords(object).length, 11);
});

Deno.test("js-glue: only imports of the final module get glue; dead snippets are reported", async () => {
  const module = await wat(
    `(module (import "m" "used" (func (result i32))) (import "m" "user" (func))
       (func (export "f") (result i32) call 0))`,
    [
      ["js_bindgen.import", [
        imp("m", "used", "() => this.#jsEmbed.e['a']()", [["e", "a"]]),
        imp("m", "dead", "() => this.#jsEmbed.e['b']()", [["e", "b"]]),
      ]],
      ["js_bindgen.embed", [
        encodeJsRecord({
          module: "e",
          name: "a",
          text: "() => this.#jsEmbed.e['c'] + 1",
          embeds: [{ module: "e", name: "c" }],
        }),
        encodeJsRecord({ module: "e", name: "b", text: "() => 0" }),
        encodeJsRecord({ module: "e", name: "c", text: "41" }),
      ]],
    ],
  );
  const { report, js } = generateGlue(module);
  assert.deepEqual(report.imports, ["m/used"]);
  assert.deepEqual(report.embeds, ["e/a", "e/c"]);
  assert.deepEqual(report.missing, ["m/user"]);
  assert.deepEqual(report.dropped, ["import m/dead", "embed e/b"]);
  // Embeds come before their users, transitively.
  assert.ok(js.indexOf('["c"] = (\n41') < js.indexOf('["a"] = (\n() =>'));
  const glue = await import(`data:text/javascript,${encodeURIComponent(js)}`);
  const { exports } = await glue.instantiate(module.toBytes(), {
    imports: { m: { user: () => {} } },
  });
  assert.equal((exports.f as () => number)(), 42);
});

Deno.test("js-glue: extendImportObject rejects conflicts, the constructor takes a memory", async () => {
  const module = await wat(
    `(module (import "js_bindgen" "memory" (memory 1)) (import "m" "f" (func (result i32)))
       (func (export "g") (result i32) call 0) (func (export "size") (result i32) memory.size))`,
    [["js_bindgen.import", [imp("m", "f", "() => this.#memory.buffer.byteLength")]]],
  );
  const { js } = generateGlue(module);
  const { JsBindgen } = await import(`data:text/javascript,${encodeURIComponent(js)}`);
  const compiled = new WebAssembly.Module(module.toBytes() as Uint8Array<ArrayBuffer>);
  const glue = new JsBindgen(compiled, new WebAssembly.Memory({ initial: 3 }));
  assert.throws(() => glue.extendImportObject({ m: { f: () => 1 } }), /conflicting symbol: `m:f`/);
  glue.extendImportObject({ m: { other: () => 1 }, n: { x: 1 } });
  const { exports } = await glue.instantiate();
  assert.equal((exports.g as () => number)(), 3 * 65536);
  assert.throws(() => glue.importObject, /create a new `JsBindgen` class/);
});

Deno.test("js-glue: the main memory is created from the import's limits (shared, 64-bit, other names)", async (t) => {
  const cases: [string, string, (m: WebAssembly.Memory) => void][] = [
    ["default js_bindgen/memory", `(import "js_bindgen" "memory" (memory 2 5))`, (m) => {
      assert.equal(m.buffer.byteLength, 2 * 65536);
      assert.equal(m.grow(3), 2);
      assert.throws(() => m.grow(1));
    }],
    ["shared", `(import "js_bindgen" "memory" (memory 1 4 shared))`, (m) => {
      assert.ok(m.buffer instanceof SharedArrayBuffer);
    }],
    ["64-bit", `(import "js_bindgen" "memory" (memory i64 1 3))`, (m) => {
      assert.equal(m.buffer.byteLength, 65536);
    }],
    ["another import", `(import "env" "memory" (memory 3))`, (m) => {
      assert.equal(m.buffer.byteLength, 3 * 65536);
    }],
  ];
  for (const [name, memory, check] of cases) {
    await t.step(name, async () => {
      const module = await wat(`(module ${memory})`);
      const { js, report } = generateGlue(module);
      assert.ok(report.memory);
      const glue = await import(`data:text/javascript,${encodeURIComponent(js)}`);
      const r = await glue.instantiate(module.toBytes());
      check(r.memory);
    });
  }
  await t.step("an exported memory is picked up after instantiation", async () => {
    const module = await wat(
      `(module (import "m" "f" (func (result i32))) (memory (export "memory") 2)
         (func (export "g") (result i32) call 0))`,
      [["js_bindgen.import", [imp("m", "f", "() => this.#memory.buffer.byteLength")]]],
    );
    const glue = await import(
      `data:text/javascript,${encodeURIComponent(generateGlue(module).js)}`
    );
    const r = await glue.instantiate(module.toBytes());
    assert.equal(r.exports.g(), 2 * 65536);
  });
});

const HOSTILE = [
  `a'b"c`,
  "back\\slash",
  "new\nline",
  "*/ globalThis.pwned = 1; /*",
  "</script><script>globalThis.pwned = 1</script>",
  "${globalThis.pwned = 1}",
  "\u2028sep",
  "__proto__",
];

Deno.test("js-glue: names with quotes, backslashes, newlines, */ or </script> cannot change the program", async () => {
  // A WAT string: JSON escapes plus \0a for newlines and UTF-8 byte escapes (wabt.js mangles
  // non-ASCII text).
  const watString = (n: string) =>
    JSON.stringify(n).replace(/\\n/g, "\\0a").replace(/\u2028/g, "\\e2\\80\\a8");
  const imports = HOSTILE.map((n, i) => `(import ${watString(n)} "f${i}" (func (result i32)))`);
  const module = await wat(
    `(module ${imports.join(" ")} ${
      HOSTILE.map((_, i) => `(func (export "g${i}") (result i32) call ${i})`).join(" ")
    })`,
    [
      ["js_bindgen.import", HOSTILE.map((n, i) => imp(n, `f${i}`, `() => ${i + 1}`))],
    ],
  );
  const { js } = generateGlue(module);
  assert.ok(!js.includes("</script>"), "no closing script tag in the output");
  delete (globalThis as { pwned?: number }).pwned;
  const glue = await import(`data:text/javascript,${encodeURIComponent(js)}`);
  const r = await glue.instantiate(module.toBytes());
  HOSTILE.forEach((_, i) => assert.equal(r.exports[`g${i}`](), i + 1));
  assert.equal((globalThis as { pwned?: number }).pwned, undefined);
  // Names round-trip exactly as import object keys.
  const { JsBindgen } = glue;
  const keys = Object.keys(
    new JsBindgen(new WebAssembly.Module(module.toBytes() as Uint8Array<ArrayBuffer>)).importObject,
  );
  assert.deepEqual(keys.sort(), [...HOSTILE].sort());
});

Deno.test("js-glue: output is deterministic whatever the record order", async () => {
  const records = [
    imp("b", "y", "() => 1"),
    imp("a", "z", "() => this.#jsEmbed.e['x']", [["e", "x"]]),
    imp("a", "y", "() => 3"),
  ];
  const embeds = [encodeJsRecord({ module: "e", name: "x", text: "7" })];
  const text = `(module (import "b" "y" (func)) (import "a" "z" (func)) (import "a" "y" (func)))`;
  const one = generateGlue(
    await wat(text, [["js_bindgen.import", records], ["js_bindgen.embed", embeds]]),
  );
  const two = generateGlue(
    await wat(text, [["js_bindgen.embed", embeds], ["js_bindgen.import", [...records].reverse()]]),
  );
  assert.equal(one.js, two.js);
  const at = (s: string) => one.js.indexOf(s);
  assert.ok(at('(importObject, "a")') < at('(importObject, "b")'), "sorted by module");
  assert.ok(at('["y"] = (\n() => 3') < at('["z"] = (\n() =>'), "then by name");
  assert.deepEqual(one.report.imports, ["a/y", "a/z", "b/y"]);
});

Deno.test("js-glue: identical duplicates merge, a snippet escaping its expression is an error", async () => {
  const text = `(module (import "m" "f" (func)))`;
  const dup = await wat(text, [["js_bindgen.import", [
    imp("m", "f", "() => {}"),
    imp("m", "f", "() => {}"),
  ]]]);
  assert.deepEqual(generateGlue(dup).report.imports, ["m/f"]);
  for (
    const escape of [
      "1); globalThis.pwned = 1; (2",
      "1) } }); globalThis.pwned = 1; ((class { m() { return (1",
    ]
  ) {
    const module = await wat(text, [["js_bindgen.import", [imp("m", "f", escape)]]]);
    const e = thrown(() => generateGlue(module));
    assert.ok(e instanceof GlueError, String(e));
  }
});

Deno.test("js-glue: every error names the import or embed (golden messages)", async (t) => {
  const text = `(module (import "web_sys" "console.log" (func)) (import "m" "g" (func)))`;
  const cases: [string, [string, Uint8Array[]][]][] = [
    ["two different texts for one import", [["js_bindgen.import", [
      imp("web_sys", "console.log", "(x) => console.log(x)"),
      imp("web_sys", "console.log", "(x) => console.info(x)"),
    ]]]],
    ["a required embed nobody provides", [["js_bindgen.import", [
      imp("web_sys", "console.log", "(x) => this.#jsEmbed.js_sys['decode'](x)", [[
        "js_sys",
        "decode",
      ]]),
    ]]]],
    ["a syntax error with line:column and a code frame", [["js_bindgen.import", [
      imp(
        "web_sys",
        "console.log",
        "(ptr, len) => {\n  const s = decode(ptr, len;\n  console.log(s);\n}",
      ),
    ]]]],
    ["an undeclared private field", [["js_bindgen.import", [
      imp("m", "g", "() => this.#secret"),
    ]]]],
    ["several problems at once", [["js_bindgen.import", [
      imp("m", "g", "() =>"),
      imp("web_sys", "console.log", "x", [["e", "gone"]]),
    ]]]],
  ];
  for (const [name, sections] of cases) {
    await t.step(name, async () => {
      const module = await wat(text, sections);
      const error = thrown(() => generateGlue(module));
      assert.ok(error instanceof GlueError, String(error));
      await t.assertSnapshot(error.message);
    });
  }
});

Deno.test("js-glue: malformed records name the section and the byte offset", async (t) => {
  const good = imp("m", "f", "1");
  const cases: [string, Uint8Array][] = [
    ["bytes left over", concat([good, new Uint8Array([1, 0])])],
    ["a record longer than the section", concat([good, new Uint8Array([0x40, 0, 0, 0, 1])])],
    ["a name running past its record", new Uint8Array([3, 0, 0, 0, 9, 0, 0x61])],
    [
      "invalid UTF-8 in the text",
      concat([new Uint8Array([8, 0, 0, 0, 1, 0, 0x6d, 1, 0, 0x66, 0, 0xff])]),
    ],
  ];
  for (const [name, payload] of cases) {
    await t.step(name, async () => {
      const module = await wat(`(module)`, [["js_bindgen.embed", [payload]]]);
      const error = thrown(() => generateGlue(module));
      assert.ok(error instanceof WasmParseError, String(error));
      await t.assertSnapshot(error.message);
    });
  }
  await t.step("the CLI prints one error line naming the file", async () => {
    const dir = await Deno.makeTempDir();
    const module = await wat(`(module)`, [["js_bindgen.import", [new Uint8Array([1, 0])]]]);
    await Deno.writeFile(join(dir, "bad.wasm"), module.toBytes());
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "opt", "bad.wasm", "-o", "out.wasm", "--js-glue"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 1);
    await t.assertSnapshot(new TextDecoder().decode(out.stderr));
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["bad.wasm"],
      "no partial output",
    );
  });
});
