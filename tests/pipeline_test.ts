import assert from "node:assert/strict";
import {
  type BinaryenModule,
  type Pass,
  PassError,
  readExports,
  readModule,
  runPipeline,
  stripCustomSections,
  ValidationError,
} from "../mod.ts";
import { fixture } from "./_tools.ts";

const APP = fixture("rust_cdylib/app.wasm");

function irPass(name: string, seen: BinaryenModule[], edit?: (m: BinaryenModule) => void): Pass {
  return {
    name,
    description: "test pass",
    level: "ir",
    run(module) {
      seen.push(module);
      edit?.(module);
      return { functions: module.getNumFunctions() };
    },
  };
}

Deno.test("runPipeline() parses IR once for consecutive IR passes and again after a sections pass", async () => {
  const seen: BinaryenModule[] = [];
  const { bytes, report } = await runPipeline(await Deno.readFile(APP), [
    irPass("a", seen),
    irPass("b", seen, (m) => m.addFunctionExport("add", "add_again")),
    stripCustomSections({ remove: ["debug"] }),
    irPass("c", seen),
  ]);
  assert.equal(seen.length, 3);
  assert.strictEqual(seen[0], seen[1], "a and b share one parse");
  assert.notStrictEqual(seen[1], seen[2], "c parses the stripped module anew");
  assert.deepEqual(report.passes.map((p) => p.name), ["a", "b", "strip-custom-sections", "c"]);
  assert.equal(report.passes[0].report.functions, 53);
  assert.ok(report.passes.every((p) => p.ms >= 0));
  assert.equal(report.validated, true);
  assert.ok(readExports(readModule(bytes)).some((e) => e.name === "add_again"));
  assert.ok(readModule(bytes).section("name"), "names survive the IR round trip");
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {});
  assert.equal((instance.exports.add_again as CallableFunction)(40, 2), 42);
});

Deno.test("runPipeline() labels a pass's error with its name and keeps the cause", async () => {
  const failing: Pass = {
    name: "boom",
    description: "throws",
    level: "sections",
    run() {
      throw new RangeError("bad thing");
    },
  };
  const e = await runPipeline(await Deno.readFile(APP), [failing]).catch((e) => e);
  assert.ok(e instanceof PassError);
  assert.equal(e.pass, "boom");
  assert.match(e.message, /^pass "boom" failed: bad thing$/);
  assert.ok(e.cause instanceof RangeError);
});

Deno.test("--validate-each names the IR pass that broke the module; the final check catches it otherwise", async () => {
  const input = await Deno.readFile(APP);
  const breaking = (m: BinaryenModule) => {
    // an export of a function that does not exist
    m.addFunctionExport("no_such_function", "dangling");
  };
  const passes = () => [irPass("fine", []), irPass("breaks", [], breaking), irPass("after", [])];
  const each = await runPipeline(input, passes(), { validateEach: true }).catch((e) => e);
  assert.ok(each instanceof ValidationError);
  assert.equal(each.pass, "breaks");
  const final = await runPipeline(input, passes()).catch((e) => e);
  assert.ok(final instanceof Error, String(final));
});

Deno.test("a sections-only run that changes no standard section skips validation, and says so", async () => {
  const { report } = await runPipeline(await Deno.readFile(APP), [stripCustomSections()]);
  assert.equal(report.validated, false);
  const forced = await runPipeline(await Deno.readFile(APP), [stripCustomSections()], {
    validate: true,
  });
  assert.equal(forced.report.validated, true);
});

Deno.test("IR passes that skip cost no parse: the module comes out byte for byte", async () => {
  const input = await Deno.readFile(APP);
  let ran = false;
  const skipping: Pass = {
    name: "skipper",
    description: "never applies",
    level: "ir",
    skip: (m) => m.section("no_such_section") ? undefined : "nothing to do here",
    run() {
      ran = true;
    },
  };
  const { bytes, report } = await runPipeline(input, [skipping, skipping]);
  assert.strictEqual(bytes, input);
  assert.equal(ran, false);
  assert.deepEqual(report.passes.map((p) => p.report), [{ skipped: "nothing to do here" }, {
    skipped: "nothing to do here",
  }]);
  assert.equal(report.validated, false);
});

Deno.test("onOutput() sees the written module and its fields join the pass's report", async () => {
  const sizes: Pass = {
    name: "sizes",
    description: "reports the code size after the IR group",
    level: "ir",
    run(module, ctx) {
      module.addFunctionExport("add", "again");
      ctx.onOutput((out) => ({ exportsAfter: readExports(out).length }));
      return { exportsBefore: readExports(ctx.input).length };
    },
  };
  const { report } = await runPipeline(await Deno.readFile(APP), [sizes]);
  assert.deepEqual(report.passes[0].report, { exportsBefore: 8, exportsAfter: 9 });
});

Deno.test("a pass that changes the code drops the stale .debug_* sections and says so", async () => {
  const input = await Deno.readFile(APP);
  const debugIn = readModule(input).customSections().filter((s) => s.name.startsWith(".debug_"));
  assert.ok(debugIn.length > 0, "the fixture has DWARF");
  const recode: Pass = {
    name: "recode",
    description: "re-encodes the code section unchanged",
    level: "sections",
    run(module) {
      const code = module.sections.find((s) => s.id === 10)!;
      code.payload = code.payload.slice(); // same bytes, but a new payload: the code changed
    },
  };
  const dropped = await runPipeline(input, [recode]);
  assert.deepEqual(dropped.report.staleDebug?.action, "dropped");
  assert.deepEqual(dropped.report.staleDebug?.sections, debugIn.map((s) => s.name));
  const out = readModule(dropped.bytes).customSections().map((s) => s.name);
  assert.ok(!out.some((n) => n.startsWith(".debug_")), out.join());
  assert.ok(out.includes("name"), "other custom sections stay");

  const kept = await runPipeline(input, [recode], { keepStaleDebug: true });
  assert.equal(kept.report.staleDebug?.action, "kept");
  assert.match(kept.report.warnings?.[0] ?? "", /are stale/);
  assert.equal(
    readModule(kept.bytes).customSections().filter((s) => s.name.startsWith(".debug_")).length,
    debugIn.length,
  );

  const untouched = await runPipeline(input, [stripCustomSections({ remove: ["producers"] })]);
  assert.equal(untouched.report.staleDebug, undefined);
  assert.equal(
    readModule(untouched.bytes).customSections().filter((s) => s.name.startsWith(".debug_"))
      .length,
    debugIn.length,
  );
});

Deno.test("assigning a section's payload is written out (no setPayload needed)", async () => {
  const input = await Deno.readFile(APP);
  const rename: Pass = {
    name: "rename-first-export",
    description: "renames the first export by editing the payload bytes",
    level: "sections",
    run(module) {
      const exports = module.sections.find((s) => s.id === 7)!;
      const bytes = exports.payload.slice();
      // count, then the first export's name length and name: upper-case its first letter.
      bytes[2] = bytes[2] >= 0x61 && bytes[2] <= 0x7a ? bytes[2] - 0x20 : bytes[2];
      exports.payload = bytes;
    },
  };
  const before = readExports(readModule(input))[0].name;
  const { bytes } = await runPipeline(input, [rename]);
  const after = readExports(readModule(bytes))[0].name;
  assert.notEqual(after, before);
  assert.equal(after.toLowerCase(), before.toLowerCase());
});
