/**
 * The `binaryen` pass: optimization levels and binaryen passes by name inside the pipeline,
 * sharing one parse and emit with neighbouring IR passes, with the input's features only.
 */
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import {
  binaryenPasses,
  moduleFeatures,
  panic,
  PassError,
  readModule,
  runPipeline,
} from "../mod.ts";
import { call, instantiate, MODULES } from "./_calls.ts";
import { fixture } from "./_tools.ts";

for (const [file, calls] of MODULES.slice(0, 2)) {
  Deno.test(`binaryen -Oz on ${file}: smaller, same results, no new feature`, async () => {
    const input = await Deno.readFile(fixture(file));
    const { bytes, report } = await runPipeline(input, [binaryenPasses({ passes: ["Oz"] })]);
    assert.ok(bytes.length < input.length);
    assert.deepEqual(report.passes[0].report.ran, ["Oz"]);
    const before = instantiate(input);
    const after = instantiate(bytes);
    for (const [name, args] of calls) {
      assert.deepEqual(call(after, name, args), call(before, name, args), `${name}(${args})`);
    }
    const allowed = moduleFeatures(readModule(input)).allowed;
    for (const f of moduleFeatures(readModule(bytes)).detected) assert.ok(allowed.has(f), f);
  });
}

Deno.test("binaryen passes by name run in order, after panic's byte engine", async () => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  const { report } = await runPipeline(input, [
    panic({ mode: "trap" }),
    binaryenPasses({ passes: ["vacuum,merge-blocks", "O1"] }),
  ]);
  assert.deepEqual(report.passes.map((p) => [p.name, p.level]), [
    ["panic", "sections"],
    ["binaryen", "ir"],
  ]);
  assert.deepEqual(report.passes[1].report.ran, ["vacuum", "merge-blocks", "O1"]);
});

Deno.test("an unknown binaryen pass is a one-line error, and binaryen keeps working", async () => {
  const input = await Deno.readFile(fixture("panic/small_z.wasm"));
  await assert.rejects(runPipeline(input, [binaryenPasses({ passes: ["no-such-pass"] })]), (e) => {
    assert.ok(e instanceof PassError && !e.internal, String(e));
    assert.match(e.message, /binaryen could not run "no-such-pass"/);
    return true;
  });
  const { report } = await runPipeline(input, [binaryenPasses({ passes: ["vacuum"] })]);
  assert.ok(report.validated);
  assert.throws(() => binaryenPasses({ passes: ["O9!"] }), /not a binaryen pass name/);
});

Deno.test("opt -Oz is the binaryen pass at level Oz", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/out.wasm`;
    const code = await main(["opt", fixture("panic/small_z.wasm"), "-o", out, "-Oz"]);
    assert.equal(code, 0);
    assert.ok((await Deno.stat(out)).size < (await Deno.stat(fixture("panic/small_z.wasm"))).size);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
