/**
 * linkpass as a drop-in for js-bindgen's linker and runner (js-bindgen 679a992):
 * - `link` writes `js_bindgen.js_output` (checked with a postcard decoder written here, not
 *   linkpass's), `is_compat` unless `--web`, `is_test` for `libtest-*` inputs, and signs
 *   `producers`; records come from every object and archive member, pruned by the final imports;
 *   the record bytes are those of js-bindgen's macro tests (host/macro/src/tests/*.rs);
 * - `run` runs a module that has only `js_output` (built here, as js-bindgen's linker writes it),
 *   honours `is_compat`/`is_test`, in Deno, Node and headless Chromium with identical output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { link } from "../linker/link.ts";
import { readJsRecords } from "../glue/records.ts";
import { writeArchive } from "../wasm/archive.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import { readProducers } from "../wasm/custom.ts";
import { chooseEngine } from "../runner/engines.ts";
import { fixture, needs, rustLld, tool } from "./_tools.ts";

const LLD = rustLld();
const NODE = tool("node");
const CHROMIUM = tool("chromium");
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

// ---- An independent postcard reader (the test's own, not glue/js_output.ts) ------------------

/** Decodes js-bindgen's `JsOutput` from postcard bytes: varint lengths, fields in order. */
function decodePostcard(bytes: Uint8Array) {
  let pos = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error("varint runs past the end");
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  };
  const str = () => {
    const len = varint();
    const s = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(pos, pos + len));
    pos += len;
    return s;
  };
  const map = () => {
    const out: Record<string, Record<string, string>> = {};
    for (let i = varint(); i > 0; i--) {
      const module = str();
      out[module] = {};
      for (let j = varint(); j > 0; j--) {
        const name = str();
        out[module][name] = str();
      }
    }
    return out;
  };
  const main_memory = { module: str(), name: str() };
  const js_import = map();
  const js_embed = map();
  assert.equal(pos, bytes.length, "no bytes after the JsOutput");
  return { main_memory, js_import, js_embed };
}

/** Encodes a `JsOutput` the way postcard does (the inverse of {@linkcode decodePostcard}). */
function encodePostcard(output: ReturnType<typeof decodePostcard>): Uint8Array {
  const out: number[] = [];
  const varint = (n: number) => {
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    out.push(n);
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    varint(b.length);
    out.push(...b);
  };
  const map = (m: Record<string, Record<string, string>>) => {
    varint(Object.keys(m).length);
    for (const [module, names] of Object.entries(m)) {
      str(module);
      varint(Object.keys(names).length);
      for (const [name, js] of Object.entries(names)) {
        str(name);
        str(js);
      }
    }
  };
  str(output.main_memory.module);
  str(output.main_memory.name);
  map(output.js_import);
  map(output.js_embed);
  return new Uint8Array(out);
}

// ---- Records with the exact bytes of js-bindgen's macro tests --------------------------------

const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
/** A record: u32 little-endian length, then the payload. */
function framed(...payloads: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const p of payloads) {
    parts.push(p.length & 0xff, (p.length >> 8) & 0xff, 0, 0, ...p);
  }
  return new Uint8Array(parts);
}
/** import_js.rs `required_embeds_multiple`: foo/bar requiring baz/qux and quux/corge, JS "". */
const IMPORT_REQUIRED_MULTIPLE = bytes(
  "\x03\0foo\x03\0bar\x02" + "\x03\0baz\x03\0qux" + "\x04\0quux\x05\0corge",
);
/** import_js.rs `basic` (module foo, name bar, JS "baz\nqux"), renamed to an import never kept. */
const IMPORT_BASIC_DEAD = bytes("\x03\0foo\x04\0dead\0baz\nqux");
/** embed_js.rs `basic`: embed foo/bar with JS "" (no import requires it: dropped). */
const EMBED_BASIC = bytes("\x03\0foo\x03\0bar\0");
/** Embeds in the same layout for the two required ones. */
const EMBED_BAZ_QUX = bytes("\x03\0baz\x03\0qux\0() => 'baz'");
const EMBED_QUUX_CORGE = bytes("\x04\0quux\x05\0corge\0() => 'corge'");

async function carrierObjects(dir: string) {
  const { assembleModule } = await import("../asm/mod.ts");
  // The crate: calls the import foo/bar; holds the import records and one embed.
  const main = WasmModule.parse(
    await assembleModule(`(module (@rwat)
      (import "foo" "bar" (func $foo.bar (@sym (name "foo.bar"))))
      (func $run (@sym) call $foo.bar (@reloc)))`),
  );
  main.addCustomSection("js_bindgen.import", framed(IMPORT_REQUIRED_MULTIPLE, IMPORT_BASIC_DEAD));
  // What rustc writes: language Rust, processed-by rustc.
  main.addCustomSection(
    "producers",
    bytes("\x02\x08language\x01\x04Rust\x061.63.0\x0cprocessed-by\x01\x05rustc\x061.63.0"),
  );
  main.addCustomSection("js_bindgen.embed", framed(EMBED_BASIC, EMBED_BAZ_QUX));
  await Deno.writeFile(join(dir, "main.o"), main.toBytes());
  // An archive member the linker never pulls in (nothing references its symbol), holding the
  // embed quux/corge, next to a non-object member (rustc's lib.rmeta) that gets cleaned away.
  const unused = WasmModule.parse(
    await assembleModule(`(module (@rwat) (func $unused (@sym) (result i32) i32.const 7))`),
  );
  unused.addCustomSection("js_bindgen.embed", framed(EMBED_QUUX_CORGE));
  const archive = writeArchive([
    { name: "unused.o", data: unused.toBytes() },
    { name: "lib.rmeta", data: new TextEncoder().encode("rust metadata, not an object") },
  ]);
  await Deno.writeFile(join(dir, "libextra.rlib"), archive);
}

const LINK_FLAGS = ["-flavor", "wasm", "--no-entry", "--export=run", "--no-glue"];

Deno.test(
  "link writes js_bindgen.js_output as js-bindgen does (records from every input, exact macro bytes)",
  needs(LLD),
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_jbg_" });
    await carrierObjects(dir);
    const run = async (extra: string[], inputs = ["main.o", "libextra.rlib"]) => {
      const result = await link({
        args: [...LINK_FLAGS, ...extra, ...inputs, "-o", "out.wasm"],
        cwd: dir,
        config: {},
        // rustup's LLD: `--import-memory=module,name` needs LLD 17+, and `npx deno` puts
        // /usr/bin first on PATH, where Debian's rustc 1.63 would lead to its LLD 14.
        env: (n) => n === "LINKPASS_LINKER" ? LLD : Deno.env.get(n),
      });
      return { result, module: WasmModule.parse(await Deno.readFile(join(dir, "out.wasm"))) };
    };
    await t.step("js_output, field by field; sections in js-bindgen's order", async () => {
      const { result, module } = await run([]);
      const names = module.customSections().map((s) => s.name);
      assert.deepEqual(names.filter((n) => n.startsWith("js_bindgen.")), [
        "js_bindgen.is_compat",
        "js_bindgen.js_output",
      ]);
      assert.deepEqual(names.slice(-2), ["js_bindgen.is_compat", "js_bindgen.js_output"]);
      assert.equal(module.section("js_bindgen.is_compat")!.payload.length, 0);
      const output = decodePostcard(module.section("js_bindgen.js_output")!.payload);
      assert.deepEqual(output.main_memory, { module: "js_bindgen", name: "memory" });
      assert.deepEqual(output.js_import, { foo: { bar: "" } });
      // quux/corge lives in an archive member the linker did not pull in: still found.
      assert.deepEqual(output.js_embed, {
        baz: { qux: "() => 'baz'" },
        quux: { corge: "() => 'corge'" },
      });
      assert.deepEqual(result.js?.dropped, ["import foo/dead", "embed foo/bar"]);
      assert.deepEqual(result.files, [], "--no-glue: no .js");
      assert.deepEqual(result.cleanedArchives, ["libextra.rlib"]);
      const memory = readImports(module).find((i) => i.kind === "memory");
      assert.ok(memory?.kind === "memory");
      assert.equal(memory.memory.max, 65536n, "--max-memory=4294967296 by default");
    });
    await t.step("--web: no is_compat (and no is_test); never passed to the linker", async () => {
      const { result, module } = await run(["--web"]);
      assert.ok(!result.linkerArgs.includes("--web"));
      assert.deepEqual(
        module.customSections().map((s) => s.name).filter((n) => n.startsWith("js_bindgen.")),
        ["js_bindgen.js_output"],
      );
    });
    await t.step("a libtest-* input makes it a test harness: is_test", async () => {
      await Deno.copyFile(join(dir, "libextra.rlib"), join(dir, "libtest-0123abcd.rlib"));
      const { module } = await run([], ["main.o", "libtest-0123abcd.rlib"]);
      assert.deepEqual(module.customSections().map((s) => s.name).slice(-3), [
        "js_bindgen.is_compat",
        "js_bindgen.is_test",
        "js_bindgen.js_output",
      ]);
      const web = await run(["--web"], ["main.o", "libtest-0123abcd.rlib"]);
      assert.ok(!web.module.customSections().some((s) => s.name === "js_bindgen.is_test"));
    });
    await t.step("an explicit --max-memory and --import-memory=module,name are kept", async () => {
      const { result, module } = await run(["--max-memory=131072", "--import-memory=env,mem"]);
      assert.equal(result.linkerArgs.filter((a) => a.startsWith("--max-memory")).length, 1);
      const memory = readImports(module).find((i) => i.kind === "memory");
      assert.ok(memory?.kind === "memory");
      assert.deepEqual([memory.module, memory.name, memory.memory.max], ["env", "mem", 2n]);
      const output = decodePostcard(module.section("js_bindgen.js_output")!.payload);
      assert.deepEqual(output.main_memory, { module: "env", name: "mem" });
    });
    await t.step("producers: processed-by gets linkpass and its version", () => {
      return run([]).then(({ module }) => {
        const producers = readProducers(module);
        const version = JSON.parse(Deno.readTextFileSync(CONFIG)).version;
        assert.ok(
          producers?.["processed-by"]?.some((p) => p.name === "linkpass" && p.version === version),
          JSON.stringify(producers),
        );
      });
    });
    await Deno.remove(dir, { recursive: true });
  },
);

/** import_js.rs's records for foo/bar, byte for byte, and the JsOutput each must give. */
const MACRO_IMPORTS: [string, string, Record<string, Record<string, string>>][] = [
  ["basic", "\x03\0foo\x03\0bar\0baz\nqux", {}],
  ["required_embeds", "\x03\0foo\x03\0bar\x01\x03\0baz\x03\0qux", {
    baz: { qux: "() => 'baz'" },
  }],
  ["required_embeds_empty (and _cfg with the cfg off)", "\x03\0foo\x03\0bar\0", {}],
  ["required_embeds_multiple", "\x03\0foo\x03\0bar\x02\x03\0baz\x03\0qux\x04\0quux\x05\0corge", {
    baz: { qux: "() => 'baz'" },
    quux: { corge: "() => 'corge'" },
  }],
];

Deno.test("js_output of each import_js.rs record layout, byte for byte", needs(LLD), async (t) => {
  const { assembleModule } = await import("../asm/mod.ts");
  const dir = await Deno.makeTempDir({ prefix: "linkpass_jbg_macro_" });
  const embeds = WasmModule.parse(await assembleModule("(module (@rwat))"));
  embeds.addCustomSection("js_bindgen.embed", framed(EMBED_BAZ_QUX, EMBED_QUUX_CORGE, EMBED_BASIC));
  await Deno.writeFile(join(dir, "embeds.o"), embeds.toBytes());
  for (const [name, record, jsEmbed] of MACRO_IMPORTS) {
    await t.step(name, async () => {
      const main = WasmModule.parse(
        await assembleModule(`(module (@rwat)
          (import "foo" "bar" (func $foo.bar (@sym (name "foo.bar"))))
          (func $run (@sym) call $foo.bar (@reloc)))`),
      );
      main.addCustomSection("js_bindgen.import", framed(bytes(record)));
      await Deno.writeFile(join(dir, "main.o"), main.toBytes());
      await link({
        args: [...LINK_FLAGS, "main.o", "embeds.o", "-o", "out.wasm"],
        cwd: dir,
        config: {},
      });
      const module = WasmModule.parse(await Deno.readFile(join(dir, "out.wasm")));
      const output = decodePostcard(module.section("js_bindgen.js_output")!.payload);
      assert.deepEqual(output.js_import, { foo: { bar: name === "basic" ? "baz\nqux" : "" } });
      assert.deepEqual(output.js_embed, jsEmbed);
    });
  }
  await Deno.remove(dir, { recursive: true });
});

// ---- Running modules as js-bindgen's linker writes them --------------------------------------

/** Runs `linkpass run` in a subprocess; the time in libtest's summary is blanked out. */
async function runCli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, "run", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const text = (b: Uint8Array) =>
    new TextDecoder().decode(b).replace(/finished in \d+\.\d+s/, "finished in <t>s");
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/**
 * The Rust fixture as js-bindgen's linker would leave it: records gone, `js_output` (written by
 * the test's own encoder) holding the JS of the imports it kept and all embeds; `compat` adds
 * `js_bindgen.is_compat`.
 */
function asJsBindgenWrites(path: string, markers: string[]): Uint8Array {
  const module = WasmModule.parse(Deno.readFileSync(path));
  const records = readJsRecords(module);
  const imported = new Set(readImports(module).map((i) => `${i.module}\0${i.name}`));
  const output = {
    main_memory: { module: "js_bindgen", name: "memory" },
    js_import: {},
    js_embed: {},
  } as ReturnType<
    typeof decodePostcard
  >;
  for (const r of records) {
    if (r.kind === "import" && !imported.has(`${r.module}\0${r.name}`)) continue;
    const map = r.kind === "import" ? output.js_import : output.js_embed;
    (map[r.module] ??= {})[r.name] = r.text;
  }
  module.sections = module.sections.filter((s) =>
    !(s.id === 0 && s.name.startsWith("js_bindgen.") && s.name !== "js_bindgen.test")
  );
  for (const m of markers) module.addCustomSection(m, new Uint8Array());
  module.addCustomSection("js_bindgen.js_output", encodePostcard(output));
  return module.toBytes();
}

Deno.test(
  "run: a module with only js_output runs in deno, node and chromium with the same output",
  needs(NODE, CHROMIUM),
  async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_jbg_run_" });
    const web = join(dir, "web.wasm");
    const compat = join(dir, "compat.wasm");
    const tests = join(dir, "tests.wasm");
    const empty = join(dir, "empty.wasm");
    await Deno.writeFile(web, asJsBindgenWrites(fixture("glue/app.wasm"), []));
    await Deno.writeFile(
      compat,
      asJsBindgenWrites(fixture("glue/app.wasm"), ["js_bindgen.is_compat"]),
    );
    await Deno.writeFile(
      tests,
      asJsBindgenWrites(fixture("glue/tests.wasm"), ["js_bindgen.is_compat", "js_bindgen.is_test"]),
    );
    // A cargo test harness with no tests: is_test, no js_bindgen.test.
    const harness = WasmModule.parse(await Deno.readFile(tests));
    harness.sections = harness.sections.filter((s) => s.name !== "js_bindgen.test");
    await Deno.writeFile(empty, harness.toBytes());
    const cases: [string, string[], number, (r: { stdout: string; stderr: string }) => void][] = [
      [
        "binary without is_compat: argv is the file and the arguments",
        [web, "--", "one", "two"],
        2,
        (r) => {
          assert.match(r.stdout, new RegExp(`args: ${web} one two\\n$`));
        },
      ],
      [
        // main returns argc - 1: -1, exit code 255.
        "binary with is_compat: argv is empty, as js-bindgen passes it",
        [compat, "--", "one"],
        255,
        (r) => {
          assert.match(r.stdout, /args:\n$/);
        },
      ],
      ["a trap exits 101 with the panic and the wasm stack", [web, "--", "panic"], 101, (r) => {
        assert.match(
          r.stderr,
          /^panicked at 'asked to panic', app\.rs:76:13\nerror: ".*" trapped: RuntimeError: unreachable\nwasm stack:\n {2}at /,
        );
        assert.match(r.stderr, / {2}at main \(wasm:0x[0-9a-f]+\)\n/);
      }],
      ["tests like libtest", [tests], 101, (r) => {
        assert.match(r.stdout, /test result: FAILED\. 4 passed; 3 failed; 2 ignored;/);
      }],
      ["filtered, with --nocapture", [tests, "--nocapture", "math"], 101, (r) => {
        assert.match(r.stdout, /test math::logs \.\.\. this line is captured\nok\n/);
      }],
      ["an empty harness prints running 0 tests", [empty], 0, (r) => {
        assert.equal(
          r.stdout,
          "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in <t>s\n\n",
        );
      }],
    ];
    for (const [name, args, code, check] of cases) {
      await t.step(name, async () => {
        const results = [];
        for (const engine of ["deno", "node", "chromium"] as const) {
          const r = await runCli(["--engine", engine, ...args]);
          assert.equal(r.code, code, `${engine}: ${r.stdout}${r.stderr}`);
          check(r);
          results.push({ engine, stdout: r.stdout, stderr: r.stderr });
        }
        for (const r of results.slice(1)) {
          assert.equal(r.stdout, results[0].stdout, `${r.engine} stdout`);
          assert.equal(r.stderr, results[0].stderr, `${r.engine} stderr`);
        }
      });
    }
    await t.step("JBG_TEST_RUNNER picks the engine as js-bindgen spells it", async () => {
      const r = await runCli([tests, "--exact", "math::adds"], { JBG_TEST_RUNNER: "node-js" });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /test math::adds \.\.\. ok/);
      const bad = await runCli([tests], { JBG_TEST_RUNNER: "bun" });
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /^error: Unsupported JBG_TEST_RUNNER "bun": linkpass runs modules in deno, node, chromium/,
      );
    });
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("chooseEngine: --engine, then JBG_TEST_RUNNER, then the one JBG_TEST_<ENGINE>_PATH, then deno", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  assert.deepEqual(chooseEngine({ env: env({}) }), { name: "deno", source: "default" });
  assert.equal(chooseEngine({ env: env({ JBG_TEST_RUNNER: "chrome-driver" }) }).name, "chromium");
  assert.equal(chooseEngine({ env: env({ JBG_TEST_RUNNER: "engine" }) }).name, "deno");
  assert.deepEqual(chooseEngine({ env: env({ JBG_TEST_NODE_JS_PATH: "/opt/node" }) }), {
    name: "node",
    path: "/opt/node",
    source: "JBG_TEST_NODE_JS_PATH",
  });
  assert.throws(
    () => chooseEngine({ env: env({ JBG_TEST_NODE_JS_PATH: "/a", JBG_TEST_DENO_PATH: "/b" }) }),
    /incompatible JBG_TEST_DENO_PATH and JBG_TEST_NODE_JS_PATH/,
  );
  assert.equal(
    chooseEngine({ explicit: "node", env: env({ JBG_TEST_RUNNER: "deno" }) }).name,
    "node",
  );
  assert.throws(() => chooseEngine({ explicit: "bun", env: env({}) }), /Unknown engine "bun"/);
  assert.deepEqual(
    chooseEngine({
      env: env({
        JBG_TEST_RUNNER: "node-js",
        JBG_TEST_NODE_JS_ARGS: `--stack-size=2000 '--title=a b'`,
      }),
    }).args,
    ["--stack-size=2000", "--title=a b"],
  );
});

Deno.test("linkpass glue writes the JS of a module that has only js_output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "linkpass_glue_cmd_" });
  await Deno.writeFile(
    join(dir, "app.wasm"),
    asJsBindgenWrites(fixture("glue/app.wasm"), ["js_bindgen.is_compat"]),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, "glue", join(dir, "app.wasm")],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "app.d.ts",
    "app.js",
    "app.wasm",
  ]);
  const glue = await import(`file://${dir}/app.js`);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    // js-bindgen's surface: the class, instantiate() resolving to the Instance.
    const module = await WebAssembly.compile(await Deno.readFile(join(dir, "app.wasm")));
    const instance = await new glue.JsBindgen(module).instantiate();
    assert.ok(instance instanceof WebAssembly.Instance);
    (instance.exports.main as (a: number, b: number) => number)(0, 0);
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines.slice(0, 3), [
    "hello from Rust",
    "JS array: [1.5,2,3.5]",
    "sum from JS: 7",
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("encodeJsOutput writes what postcard writes; decodeJsOutput names the offset of bad bytes", async () => {
  const { decodeJsOutput, encodeJsOutput } = await import("../glue/js_output.ts");
  const { WasmParseError } = await import("../wasm/errors.ts");
  const long = "x".repeat(300); // a two-byte varint length
  const theirs = {
    main_memory: { module: "js_bindgen", name: "" },
    js_import: { a: { "é": long, z: "() => 1" }, b: { f: "\u2028" } },
    js_embed: { e: { [long]: "0" } },
  };
  const ours = {
    mainMemory: { module: "js_bindgen", name: "" },
    jsImport: new Map([
      ["b", new Map([["f", "\u2028"]])],
      ["a", new Map([["z", "() => 1"], ["é", long]])],
    ]),
    jsEmbed: new Map([["e", new Map([[long, "0"]])]]),
  };
  const sorted = {
    ...theirs,
    js_import: { a: { z: "() => 1", "é": long }, b: { f: "\u2028" } },
  };
  assert.deepEqual(encodeJsOutput(ours), encodePostcard(sorted));
  assert.deepEqual(decodePostcard(encodeJsOutput(ours)), sorted);
  assert.deepEqual(decodeJsOutput(encodePostcard(theirs)), {
    mainMemory: ours.mainMemory,
    jsImport: new Map([["a", new Map([["é", long], ["z", "() => 1"]])], [
      "b",
      ours.jsImport.get("b"),
    ]]),
    jsEmbed: ours.jsEmbed,
  });
  const bytes = encodeJsOutput(ours);
  for (const bad of [bytes.subarray(0, bytes.length - 1), new Uint8Array([...bytes, 0])]) {
    const e = (() => {
      try {
        decodeJsOutput(bad, 0x100);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(e instanceof WasmParseError, String(e));
    assert.match(e.message, /\(at offset 0x[0-9a-f]+\)/);
  }
});
