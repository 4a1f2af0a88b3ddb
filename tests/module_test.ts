import assert from "node:assert/strict";
import fc from "fast-check";
import {
  readCode,
  readData,
  readElements,
  readExports,
  readFunctions,
  readGlobals,
  readImports,
  readLinking,
  readMemories,
  readModule,
  readModuleFile,
  readNames,
  readProducers,
  readRelocs,
  readTables,
  readTargetFeatures,
  readTypes,
  runPipeline,
  sectionByteLength,
  stripCustomSections,
  WasmModule,
  WasmParseError,
} from "../mod.ts";
import { fixture, FIXTURES, needs, run, thrown, tool } from "./_tools.ts";

for (const name of FIXTURES) {
  Deno.test(`an empty pipeline returns ${name} byte for byte`, async () => {
    const input = await Deno.readFile(fixture(name));
    const { bytes, report } = await runPipeline(input, []);
    assert.equal(bytes.length, input.length);
    assert.ok(bytes.every((b, i) => b === input[i]));
    assert.equal(report.passes.length, 0);
  });
}

const objdump = tool("wasm-objdump");

for (const name of FIXTURES) {
  Deno.test(`decoded sections of ${name} agree with wasm-objdump`, needs(objdump), async () => {
    const path = fixture(name);
    const m = readModule(await Deno.readFile(path));
    const headers = await run(objdump!, ["-h", path]);
    const counts = new Map<string, number>();
    for (const line of headers.split("\n")) {
      const match = line.match(/^\s*(\w+) start=.*count: (\d+)/);
      if (match) counts.set(match[1].toLowerCase(), Number(match[2]));
    }
    const expect = (section: string, n: number) => {
      if (counts.has(section)) assert.equal(n, counts.get(section), section);
    };
    expect("type", readTypes(m).length);
    expect("import", readImports(m).length);
    expect("function", readFunctions(m).length);
    expect("table", readTables(m).length);
    expect("memory", readMemories(m).length);
    expect("global", readGlobals(m).length);
    expect("export", readExports(m).length);
    expect("elem", readElements(m).length);
    expect("code", readCode(m).length);
    expect("data", readData(m).length);
    // custom sections, in order
    const customs = [...headers.matchAll(/Custom start=.*"(.*)"/g)].map((x) => x[1]);
    assert.deepEqual(m.customSections().map((s) => s.name), customs);
    // export names and function names
    const details = await run(objdump!, ["-x", path]);
    for (const e of readExports(m)) assert.ok(details.includes(`-> "${e.name}"`), e.name);
    const names = readNames(m);
    if (names) {
      for (const [i, n] of [...names.functions].slice(0, 20)) {
        assert.ok(details.includes(`func[${i}] <${n}>`), `func[${i}] <${n}>`);
      }
    }
    if (m.isRelocatable) {
      const linking = readLinking(m)!;
      assert.equal(
        linking.symbols.length,
        Number(details.match(/symbol table \[count=(\d+)\]/)![1]),
      );
      const listed = [...details.matchAll(/relocations for section: (\d+) .*\[(\d+)\]/g)]
        .map((x) => [Number(x[1]), Number(x[2])]);
      const ours = m.customSections().filter((s) => s.name.startsWith("reloc."))
        .map((s) => readRelocs(m, s)).map((r) => [r.target, r.entries.length]);
      assert.deepEqual(ours, listed);
    }
  });
}

Deno.test("readProducers and readTargetFeatures decode clang's sections", async () => {
  const m = readModule(await Deno.readFile(fixture("c_objects/main.o")));
  const producers = readProducers(m)!;
  assert.match(producers["processed-by"][0].name, /clang/);
  const features = readTargetFeatures(m)!;
  assert.ok(features.some((f) => f.prefix === "+" && f.name.length > 0));
});

Deno.test("a changed section is re-encoded and the rest copied raw", async () => {
  const input = await Deno.readFile(fixture("rust_cdylib/app.wasm"));
  const m = WasmModule.parse(input);
  const producers = m.section("producers")!;
  m.setPayload(producers, new Uint8Array([0]));
  const out = WasmModule.parse(m.toBytes());
  assert.equal(out.sections.length, m.sections.length);
  assert.deepEqual([...out.section("producers")!.payload], [0]);
  assert.deepEqual(out.section(10)!.payload, m.section(10)!.payload);
  await WebAssembly.compile(out.source as BufferSource);
});

/** Builds a module header followed by raw bytes. */
function wasm(...rest: number[]): Uint8Array {
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...rest]);
}

const BAD_INPUTS: [string, Uint8Array][] = [
  ["ELF object", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0])],
  ["Mach-O object", new Uint8Array([0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1, 3, 0, 0, 0])],
  ["COFF object", new Uint8Array([0x64, 0x86, 3, 0, ...new Array(24).fill(0)])],
  ["text file", new TextEncoder().encode("hello, this is not wasm\n")],
  ["WAT text file", new TextEncoder().encode("(module (func))\n")],
  ["empty file", new Uint8Array(0)],
  ["truncated header", new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0])],
  ["component", new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0])],
  ["section past the end", wasm(1, 0x20, 0x01, 0x60)],
  ["overlong LEB128 section size", wasm(1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)],
  ["custom section name not UTF-8", wasm(0, 4, 3, 0xff, 0xfe, 0xfd)],
  ["unknown section id", wasm(0x42, 0)],
];

for (const [what, bytes] of BAD_INPUTS) {
  Deno.test(`readModule explains a ${what}`, async (t) => {
    const e = thrown(() => readModule(bytes, { file: "input.wasm" }));
    assert.ok(e instanceof WasmParseError);
    assert.equal(e.file, "input.wasm");
    await t.assertSnapshot(e.message);
  });
}

Deno.test("decoders report the file offset of a malformed section", () => {
  // type section: count 1, form 0x61 (invalid)
  const e = thrown(() => readTypes(readModule(wasm(1, 2, 1, 0x61))));
  assert.ok(e instanceof WasmParseError);
  assert.equal(e.offset, 11);
  assert.match(e.message, /invalid type form 0x61 \(at offset 0xb\)/);
});

Deno.test("readModuleFile() reads custom sections only when used, and gives the same module", async () => {
  for (const name of FIXTURES) {
    const path = fixture(name);
    const bytes = await Deno.readFile(path);
    const lazy = await readModuleFile(path);
    assert.deepEqual(
      lazy.sections.map((s) => s.name),
      readModule(bytes).sections.map((s) => s.name),
    );
    assert.equal(
      lazy.sections.reduce((n, s) => n + sectionByteLength(s), 8),
      bytes.length,
      "section sizes known without reading contents",
    );
    const { bytes: stripped } = await runPipeline(lazy, [
      stripCustomSections({ remove: ["debug"] }),
    ]);
    const { bytes: expected } = await runPipeline(bytes, [
      stripCustomSections({ remove: ["debug"] }),
    ]);
    assert.deepEqual(stripped, expected, name);
    assert.deepEqual(
      (await readModuleFile(path)).toBytes(),
      bytes,
      "an untouched module is the file",
    );
  }
});

Deno.test("readModuleFile() leaves dropped custom sections unread", async () => {
  const path = fixture("rust_cdylib/app.wasm");
  const lazy = await readModuleFile(path);
  const info = lazy.section(".debug_info")!;
  const { bytes } = await runPipeline(lazy, [stripCustomSections({ remove: ["debug"] })]);
  // the source buffer still holds zeros where .debug_info's contents would be
  const at = info.payloadOffset;
  assert.ok(lazy.source.subarray(at + 16, at + 64).every((b) => b === 0));
  assert.ok(!readModule(bytes).section(".debug_info"));
});

Deno.test("readNames: ASCII names sliced from the section, others decoded as UTF-8, bad UTF-8 refused", async () => {
  const { encodeNameMap } = await import("../wasm/custom.ts");
  const { encodeU32 } = await import("../wasm/leb128.ts");
  const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
  const withNames = (sub: Uint8Array) => {
    const name = [4, ...new TextEncoder().encode("name")];
    const payload = [...name, ...sub];
    return readModule(new Uint8Array([...header, 0, ...encodeU32(payload.length), ...payload]));
  };
  // Indices from 0 to 300 (two-byte LEBs, bytes ≥ 0x80 between the names), mixed names.
  const names = new Map<number, string>();
  for (let i = 0; i < 300; i += 7) {
    names.set(i, i % 3 === 0 ? `f${i}::<é ${"x".repeat(i % 5)}>` : `core::fmt::write${i}`);
  }
  names.set(299, "");
  const read = readNames(withNames(encodeNameMap(1, names)))!;
  assert.deepEqual([...read.functions], [...names].sort((a, b) => a[0] - b[0]));
  // Only the maps asked for are decoded; the subsections are still listed.
  const tables = new Map([[0, "t"]]);
  const both = withNames(new Uint8Array([...encodeNameMap(1, names), ...encodeNameMap(5, tables)]));
  const only = readNames(both, ["tables"])!;
  assert.deepEqual([...only.tables], [[0, "t"]]);
  assert.equal(only.functions.size, 0);
  assert.deepEqual(only.subsections, [1, 5]);
  assert.equal(readNames(both)!.functions.size, names.size);
  // A name that is not UTF-8 is one parse error naming where it starts.
  const bad = new Uint8Array([1, 5, 1, 5, 2, 0xc3, 0x28]);
  const e = thrown(() => readNames(withNames(bad)));
  assert.ok(e instanceof WasmParseError, String(e));
  assert.match(e.message, /not valid UTF-8/);
});

Deno.test("readCode: one frozen outline while the code is unchanged, a new one after", () => {
  // two bodies: (func) (func nop)
  const m = readModule(wasm(1, 4, 1, 0x60, 0, 0, 3, 3, 2, 0, 0, 10, 7, 2, 2, 0, 0x0b, 2, 0, 0x01));
  const a = readCode(m);
  assert.equal(readCode(m), a, "shared while unchanged");
  assert.ok(Object.isFrozen(a));
  assert.deepEqual(a.map((b) => [...b.body]), [[0, 0x0b], [0, 0x01]]);
  m.setPayload(m.section(10)!, new Uint8Array([2, 2, 0, 0x0b, 3, 0, 0x01, 0x0b]));
  const b = readCode(m);
  assert.notEqual(b, a);
  assert.deepEqual(b.map((x) => [...x.body]), [[0, 0x0b], [0, 0x01, 0x0b]]);
});

Deno.test("joinInto: the same bytes as toBytes() whenever it joins, and the target untouched when it cannot", async () => {
  const { joinInto } = await import("../wasm/module.ts");
  const inputs = await Promise.all(
    ["panic/hooked_z.wasm", "rust_cdylib/app.wasm", "panic/small_2.wasm"].map((f) =>
      Deno.readFile(fixture(f))
    ),
  );
  let joined = 0, refused = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: inputs.length - 1 }),
      fc.array(
        fc.tuple(
          fc.constantFrom("drop", "grow", "shrink", "view", "custom", "swap"),
          fc.nat(),
          fc.nat(),
        ),
        { maxLength: 6 },
      ),
      (which, edits) => {
        const input = inputs[which].slice();
        // Part of a larger buffer, as a file read into a pool would be.
        const buffer = new Uint8Array(input.length + 64);
        buffer.set(input, 32);
        const target = buffer.subarray(32, 32 + input.length);
        const m = WasmModule.parse(target);
        for (const [kind, a, b] of edits) {
          const n = m.sections.length;
          if (n === 0) break;
          const s = m.sections[a % n];
          if (kind === "drop") m.sections.splice(a % n, 1);
          else if (kind === "grow") {
            m.setPayload(s, new Uint8Array(s.payload.length + 1 + (b % 50)));
          } else if (kind === "shrink") {
            m.setPayload(s, s.payload.slice(0, b % (s.payload.length + 1)));
          } else if (kind === "view") {
            // a payload that is another place of the input's own buffer
            const from = b % target.length;
            m.setPayload(s, target.subarray(from, from + ((a * 7) % 40)));
          } else if (kind === "custom") m.addCustomSection(`c${b % 5}`, new Uint8Array(a % 30));
          else if (n > 1) {
            const j = b % n;
            [m.sections[a % n], m.sections[j]] = [m.sections[j], m.sections[a % n]];
          }
        }
        const expected = m.toBytes().slice();
        const before = buffer.slice();
        const out = joinInto(m.chunks(), target);
        if (out === undefined) {
          refused++;
          assert.deepEqual(buffer, before, "refused: nothing overwritten");
        } else {
          joined++;
          assert.deepEqual(out, expected);
          assert.equal(out.buffer, buffer.buffer);
          assert.deepEqual(buffer.subarray(0, 32), before.subarray(0, 32), "nothing before target");
        }
      },
    ),
    { numRuns: 400, seed: 7 },
  );
  assert.ok(joined > 50 && refused > 10, `joined ${joined}, refused ${refused}`);
});
