/**
 * Feature preservation: the features a module uses are detected from its contents and its
 * `target_features`; binaryen reads and writes with exactly those, so `ref.null extern` stays
 * `ref.null extern` (not the GC type `noextern` Node 20 rejects); an output needing a feature the
 * input lacks is a one-line FeatureError; binaryen failures are one-line BinaryenErrors.
 */
import assert from "node:assert/strict";
import {
  BinaryenError,
  binaryenPasses,
  FeatureError,
  moduleFeatures,
  type Pass,
  readModule,
  runPipeline,
} from "../mod.ts";
import { readCode } from "../wasm/types.ts";
import { wat } from "./_wat.ts";

const EXTERNREF = `(module
  (table $t 0 externref)
  (func (export "grow") (param $n i32) (result i32)
    (table.grow $t (ref.null extern) (local.get $n)))
  (func (export "sum") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;

Deno.test("moduleFeatures() finds what the code uses and what target_features declares", () => {
  const m = readModule(wat(EXTERNREF));
  const { detected, why, declared } = moduleFeatures(m);
  assert.deepEqual([...detected].sort(), ["reference-types"]);
  assert.match(why.get("reference-types")!, /externref/);
  assert.equal(declared, undefined);
  const signExt = readModule(wat(`(module (func (param i32) (result i32)
    (i32.extend8_s (local.get 0))))`));
  assert.deepEqual([...moduleFeatures(signExt).detected], ["sign-ext"]);
});

Deno.test("binaryen writes ref.null extern back as ref.null extern, with no GC type", async () => {
  const input = wat(EXTERNREF);
  const { bytes } = await runPipeline(input, [binaryenPasses({ passes: ["vacuum"] })]);
  const body = readCode(readModule(bytes)).map((b) => [...b.body]);
  const has = (seq: number[]) =>
    body.some((b) => b.some((_, i) => seq.every((x, k) => b[i + k] === x)));
  assert.ok(has([0xd0, 0x6f]), "ref.null extern");
  assert.ok(!has([0xd0, 0x72]), "no ref.null noextern");
  assert.deepEqual([...moduleFeatures(readModule(bytes)).detected], ["reference-types"]);
});

Deno.test("a pass whose output needs a new feature fails with a FeatureError", async () => {
  const input = wat(`(module (func (export "f") (param i32) (result i32) (local.get 0)))`);
  const withSignExt = readModule(wat(`(module (func (export "f") (param i32) (result i32)
    (i32.extend8_s (local.get 0))))`));
  const sneaky: Pass = {
    name: "add-sign-ext",
    description: "swaps in code that uses sign-ext",
    level: "sections",
    run(m) {
      m.setPayload(m.section(10)!, withSignExt.section(10)!.payload);
    },
  };
  await assert.rejects(runPipeline(input, [sneaky]), (e) => {
    assert.ok(e instanceof FeatureError, String(e));
    assert.deepEqual(e.features, ["sign-ext"]);
    assert.match(e.message, /"sign-ext" \(opcode 0xc0 in function body 0\)/);
    assert.ok(!e.message.includes("\n"));
    return true;
  });
});

Deno.test("binaryen failures are one-line BinaryenErrors", async () => {
  // Well formed, but invalid: i32.add on an empty stack.
  const invalid = new Uint8Array([
    0,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    1,
    5,
    1,
    0x60,
    0,
    1,
    0x7f, // type (func (result i32))
    3,
    2,
    1,
    0, // one function
    10,
    5,
    1,
    3,
    0,
    0x6a,
    0x0b, // body: i32.add end
  ]);
  for (let i = 0; i < 50; i++) {
    await assert.rejects(runPipeline(invalid, [binaryenPasses({ passes: ["vacuum"] })]), (e) => {
      assert.ok(e instanceof BinaryenError, String(e));
      assert.match(e.message, /^binaryen could not read the module: the module is invalid: /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});
