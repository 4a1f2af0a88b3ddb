import assert from "node:assert/strict";
import fc from "fast-check";
import {
  readCode,
  readData,
  readDataCount,
  readElements,
  readExports,
  readFunctions,
  readGlobals,
  readImports,
  readLinking,
  readMemories,
  readModule,
  readNames,
  readProducers,
  readRelocs,
  readStart,
  readTables,
  readTags,
  readTargetFeatures,
  readTypes,
  runPipeline,
  stripCustomSections,
  WasmParseError,
} from "../mod.ts";
import { validationError } from "../pipeline.ts";
import { fixture, FIXTURES } from "./_tools.ts";

/** A mutation of a real module: flips, overwrites, truncation, insertion, deletion. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = input.slice();
  for (const m of mutations) {
    const at = m.at % Math.max(1, b.length);
    switch (m.kind) {
      case "flip":
        b[at] ^= 1 << m.bit;
        break;
      case "set":
        b[at] = m.value;
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "insert":
        b = new Uint8Array([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        break;
      case "delete":
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + m.count)]);
        break;
    }
  }
  return b;
}

/** Decodes everything the binary layer knows; only WasmParseError may escape. */
function decodeAll(bytes: Uint8Array): void {
  const m = readModule(bytes);
  for (
    const read of [
      readTypes,
      readImports,
      readFunctions,
      readTables,
      readMemories,
      readGlobals,
      readExports,
      readElements,
      readCode,
      readData,
      readTags,
    ]
  ) {
    read(m);
  }
  readStart(m);
  readDataCount(m);
  readNames(m);
  readProducers(m);
  readTargetFeatures(m);
  readLinking(m);
  for (const s of m.customSections().filter((s) => s.name.startsWith("reloc."))) readRelocs(m, s);
}

for (const name of FIXTURES) {
  Deno.test(`mutated ${name}: read → empty pipeline → write gives a typed error or the same bytes`, async () => {
    const input = await Deno.readFile(fixture(name));
    // Smaller modules get more runs; the large cdylib fewer, to keep the suite fast.
    const numRuns = input.length > 50_000 ? 400 : 1500;
    let parsed = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const bytes = mutate(input, mutations);
        try {
          const { bytes: out } = await runPipeline(bytes, []);
          assert.deepEqual(out, bytes);
          parsed++;
        } catch (e) {
          if (!(e instanceof WasmParseError)) throw e;
          assert.ok(
            e.offset >= 0 && e.offset <= bytes.length,
            `offset ${e.offset} inside the input`,
          );
          rejected++;
          return;
        }
        try {
          decodeAll(bytes);
        } catch (e) {
          if (!(e instanceof WasmParseError)) throw e;
        }
        // Stripping custom sections never turns a valid module into an invalid one.
        if (validationError(bytes) === undefined) {
          try {
            const { bytes: stripped } = await runPipeline(bytes, [
              stripCustomSections({ remove: ["debug", "producers"] }),
            ], { validate: true });
            assert.equal(validationError(stripped), undefined);
          } catch (e) {
            if (
              !(e instanceof Error && e.name === "PassError" && (e.cause instanceof WasmParseError))
            ) throw e;
          }
        }
      }),
      { numRuns, seed: 20261124 },
    );
    assert.ok(
      parsed > 0 && rejected > 0,
      `both outcomes seen (parsed ${parsed}, rejected ${rejected})`,
    );
  });
}
