import assert from "node:assert/strict";
import {
  compileSelector,
  readLinking,
  readModule,
  readRelocs,
  runPipeline,
  stripCustomSections,
  SymbolKind,
} from "../mod.ts";
import { fixture, needs, run, rustLld, rustLldWasm, tool, withTempDir } from "./_tools.ts";

const names = (bytes: Uint8Array) => readModule(bytes).customSections().map((s) => s.name);

async function instantiate(bytes: Uint8Array) {
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {});
  return instance.exports as Record<string, CallableFunction>;
}

Deno.test("selectors: category, exact, prefix glob, anchored regex", () => {
  assert.ok(compileSelector("debug")(".debug_str"));
  assert.ok(compileSelector("debug")("sourceMappingURL"));
  assert.ok(compileSelector("debug")("external_debug_info"));
  assert.ok(!compileSelector("debug")("name"));
  assert.ok(compileSelector("js-bindgen")("js_bindgen.import"));
  assert.ok(compileSelector("target-features")("target_features"));
  assert.ok(compileSelector("producers")("producers"));
  assert.ok(compileSelector("names")("name"));
  assert.ok(compileSelector("all")("anything"));
  assert.ok(compileSelector("linkpass.fixture")("linkpass.fixture"));
  assert.ok(!compileSelector("linkpass.fixture")("linkpass.fixture2"));
  assert.ok(compileSelector(".debug_*")(".debug_line"));
  assert.ok(compileSelector("/\\.debug_(info|str)/")(".debug_str"));
  assert.ok(!compileSelector("/debug/")(".debug_str"), "regex is anchored");
  assert.throws(() => compileSelector("a*b"), /only a trailing "\*"/);
  assert.throws(() => compileSelector("/(/"), /Invalid regular expression/);
  assert.throws(() => compileSelector(""), TypeError);
});

Deno.test("stripCustomSections() keeps the name section when asked and the module still runs", async () => {
  const input = await Deno.readFile(fixture("rust_cdylib/app.wasm"));
  const { bytes, report } = await runPipeline(input, [stripCustomSections({ keep: ["name"] })]);
  assert.deepEqual(names(bytes), ["name"]);
  const removed = report.passes[0].report.removed as { name: string; bytes: number }[];
  assert.equal(removed.length, names(input).length - 1);
  assert.equal(report.passes[0].report.bytesSaved, input.length - bytes.length);
  const before = await instantiate(input);
  const after = await instantiate(bytes);
  for (const [a, b] of [[2, 3], [-7, 7], [0x7fffffff, 1]]) {
    assert.equal(after.add(a, b), before.add(a, b));
  }
  assert.equal(after.sum_to(1000), 500500n);
  assert.throws(() => after.checked_div(1, 0), WebAssembly.RuntimeError);
});

Deno.test("stripCustomSections() by category, glob and regex removes exactly the selection", async () => {
  const input = await Deno.readFile(fixture("rust_cdylib/app.wasm"));
  const cases: [string[], string[] | undefined, string[]][] = [
    [["debug"], undefined, ["linkpass.fixture", "name", "producers"]],
    [
      ["linkpass.*", "producers"],
      undefined,
      names(input).filter((n) => n.startsWith(".debug") || n === "name"),
    ],
    [
      ["/\\.debug_(str|info)/"],
      undefined,
      names(input).filter((n) => n !== ".debug_str" && n !== ".debug_info"),
    ],
    [["all"], ["debug"], names(input).filter((n) => n.startsWith(".debug"))],
  ];
  for (const [remove, keep, expected] of cases) {
    const { bytes } = await runPipeline(input, [stripCustomSections({ remove, keep })]);
    assert.deepEqual(names(bytes), expected, remove.join(","));
    await instantiate(bytes);
  }
});

Deno.test("stripping nothing that matches returns the input byte for byte", async () => {
  const input = await Deno.readFile(fixture("rust_cdylib/app.wasm"));
  const { bytes, report } = await runPipeline(input, [stripCustomSections({ remove: ["nope"] })]);
  assert.strictEqual(bytes, input);
  assert.equal(report.passes[0].report.bytesSaved, 0);
});

const lld = rustLld();
const OBJECTS = ["c_objects/main.o", "c_objects/util.o"];

async function linkAndRun(objects: Uint8Array[]) {
  const dir = await Deno.makeTempDir();
  const paths = await Promise.all(objects.map(async (o, i) => {
    const p = `${dir}/in${i}.o`;
    await Deno.writeFile(p, o);
    return p;
  }));
  await rustLldWasm(["--no-entry", "-o", `${dir}/out.wasm`, ...paths]);
  const bytes = await Deno.readFile(`${dir}/out.wasm`);
  await Deno.remove(dir, { recursive: true });
  return { bytes, exports: await instantiate(bytes) };
}

Deno.test(
  "stripped clang objects (DWARF dropped, relocs renumbered) link with rust-lld and run",
  needs(lld),
  async () => {
    const inputs = await Promise.all(OBJECTS.map((o) => Deno.readFile(fixture(o))));
    const stripped = [];
    for (const input of inputs) {
      const { bytes, report } = await runPipeline(input, [
        stripCustomSections({ remove: ["debug"] }),
      ]);
      assert.ok(
        !names(bytes).some((n) => n.includes("debug")),
        "no debug sections or their relocs",
      );
      assert.ok((report.passes[0].report.bytesSaved as number) > 0);
      // every remaining reloc section points at the section with the right name
      const m = readModule(bytes);
      for (const s of m.customSections().filter((s) => s.name.startsWith("reloc."))) {
        const target = m.sections[readRelocs(m, s).target];
        assert.equal(s.name.slice(6).toLowerCase(), target.name.toLowerCase(), s.name);
      }
      const sectionSymbols = readLinking(m)!.symbols.filter((s) => s.kind === SymbolKind.section);
      assert.equal(sectionSymbols.length, 0, "section symbols of dropped sections are gone");
      stripped.push(bytes);
    }
    const original = await linkAndRun(inputs);
    const result = await linkAndRun(stripped);
    assert.equal(result.exports.apply(0, 6, 7), 13);
    assert.equal(result.exports.apply(1, 6, 7), 42);
    assert.equal(result.exports.total_length(), original.exports.total_length());
    assert.ok(!names(result.bytes).some((n) => n.startsWith(".debug")));
  },
);

Deno.test(
  "a section that surviving relocations point into (.debug_str) is kept and reported",
  needs(lld),
  async () => {
    const inputs = await Promise.all(OBJECTS.map((o) => Deno.readFile(fixture(o))));
    const stripped = [];
    for (const input of inputs) {
      const { bytes, report } = await runPipeline(input, [
        stripCustomSections({ remove: [".debug_str", "producers"] }),
      ]);
      assert.deepEqual(report.passes[0].report.keptReferenced, [".debug_str"]);
      const removed = report.passes[0].report.removed as { name: string }[];
      assert.deepEqual(removed.map((r) => r.name), ["producers"]);
      const m = readModule(bytes);
      assert.deepEqual(
        m.section(".debug_str")!.payload,
        readModule(input).section(".debug_str")!.payload,
      );
      assert.ok(!m.section("producers"));
      for (const s of m.customSections().filter((s) => s.name.startsWith("reloc."))) {
        assert.equal(
          s.name.slice(6).toLowerCase(),
          m.sections[readRelocs(m, s).target].name.toLowerCase(),
        );
      }
      stripped.push(bytes);
    }
    const result = await linkAndRun(stripped);
    assert.equal(result.exports.apply(1, 3, 5), 15);
  },
);

Deno.test("a stripped rustc object links with rust-lld and runs", needs(lld), async () => {
  const input = await Deno.readFile(fixture("rust_objects/lib.o"));
  const { bytes } = await runPipeline(input, [stripCustomSections({ remove: ["all"] })]);
  const m = readModule(bytes);
  assert.ok(m.isRelocatable, "linking and reloc.* survive 'all'");
  assert.deepEqual(m.customSections().map((s) => s.name).filter((n) => !n.startsWith("reloc.")), [
    "linking",
  ]);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/lib.o`, bytes);
  await rustLldWasm([
    "--no-entry",
    "--export=nth_prime",
    "--export=gcd",
    "-o",
    `${dir}/out.wasm`,
    `${dir}/lib.o`,
  ]);
  const exports = await instantiate(await Deno.readFile(`${dir}/out.wasm`));
  assert.equal(exports.nth_prime(4), 11);
  assert.equal(exports.nth_prime(40), 0);
  assert.equal(exports.gcd(1071n, 462n), 21n);
  await Deno.remove(dir, { recursive: true });
});

const wasmStrip = tool("wasm-strip");

Deno.test(
  "stripping all custom sections matches native wasm-strip byte for byte",
  needs(wasmStrip),
  async () => {
    const input = fixture("rust_cdylib/app.wasm");
    const dir = await Deno.makeTempDir();
    await Deno.copyFile(input, `${dir}/a.wasm`);
    await run(wasmStrip!, [`${dir}/a.wasm`]);
    const native = await Deno.readFile(`${dir}/a.wasm`);
    const { bytes } = await runPipeline(await Deno.readFile(input), [stripCustomSections()]);
    assert.deepEqual(bytes, native);
    await Deno.remove(dir, { recursive: true });
  },
);

const CLANG = tool("clang-19") ?? tool("clang");

Deno.test(
  "'all' keeps dylink.0: a PIC side module (clang + rust-lld -shared) still loads after stripping",
  needs(CLANG, lld),
  () =>
    withTempDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/side.c`,
        'int counter = 41;\n__attribute__((visibility("default"))) int next(void) { return ++counter; }\n',
      );
      await run(CLANG!, [
        "--target=wasm32",
        "-fPIC",
        "-O2",
        "-c",
        `${dir}/side.c`,
        "-o",
        `${dir}/side.o`,
      ]);
      await rustLldWasm([
        "--experimental-pic",
        "-shared",
        "-o",
        `${dir}/side.wasm`,
        `${dir}/side.o`,
      ]);
      const input = await Deno.readFile(`${dir}/side.wasm`);
      assert.equal(names(input)[0], "dylink.0");
      const { bytes, report } = await runPipeline(input, [stripCustomSections()]);
      // emscripten's loader (getDylinkMetadata) fails with "need dylink section" without it.
      assert.deepEqual(names(bytes), ["dylink.0"]);
      assert.deepEqual(report.passes[0].report.keptForLinking, ["dylink.0"]);
      assert.deepEqual(
        readModule(bytes).section("dylink.0")!.payload,
        readModule(input).section("dylink.0")!.payload,
      );
      // Load it the way a dynamic loader does: the memory and its base come from outside.
      const module = new WebAssembly.Module(bytes as BufferSource);
      assert.equal(WebAssembly.Module.customSections(module, "dylink.0").length, 1);
      const memory = new WebAssembly.Memory({ initial: 1 });
      const { exports } = new WebAssembly.Instance(module, {
        env: {
          memory,
          __memory_base: new WebAssembly.Global({ value: "i32" }, 1024),
          __table_base: new WebAssembly.Global({ value: "i32" }, 0),
        },
      });
      (exports.__wasm_apply_data_relocs as (() => void) | undefined)?.();
      assert.equal((exports.next as () => number)(), 42);
    }),
);
