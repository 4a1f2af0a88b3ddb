/**
 * Passes on archives before the link: every Wasm object member of a real rustc rlib goes through
 * the section passes, `lib.rmeta` stays byte for byte, the symbol table is rebuilt with the same
 * symbols rustc indexed, and the linker takes the result.
 */
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { runArchivePipeline } from "../archive_pipeline.ts";
import { binaryenPasses, readArchive, readModule, stripCustomSections } from "../mod.ts";
import { builtins, fixture, needs, rustLld, rustLldWasm } from "./_tools.ts";

Deno.test({
  name: "strip debug in a rustc rlib: same members and symbols, rmeta untouched, smaller objects",
  ...needs(builtins()),
  async fn() {
    const input = await Deno.readFile(builtins()!);
    const before = readArchive(input);
    const result = await runArchivePipeline(input, [stripCustomSections({ remove: ["debug"] })]);
    const after = readArchive(result.bytes);
    assert.deepEqual(after.members.map((m) => m.name), before.members.map((m) => m.name));
    const names = (a: typeof before) => new Set(a.symbols!.map((s) => s.name));
    assert.deepEqual(names(after), names(before), "the rebuilt index has rustc's symbols");
    for (const s of after.symbols!.slice(0, 50)) {
      assert.ok(after.members[s.member].name.endsWith(".o"), s.name);
    }
    const rmeta = (a: typeof before) => a.members.find((m) => m.name === "lib.rmeta")!.data;
    assert.deepEqual(rmeta(after), rmeta(before));
    assert.ok(result.outputBytes < result.inputBytes * 0.8, `${result.outputBytes}`);
    for (const m of after.members.filter((m) => m.name.endsWith(".o")).slice(0, 20)) {
      const module = readModule(m.data);
      assert.ok(module.isRelocatable);
      assert.equal(module.customSections().filter((s) => s.name.startsWith(".debug")).length, 0);
    }
  },
});

Deno.test({
  name: "the linker takes the cleaned rlib: same code as with rustc's",
  ...needs(builtins(), rustLld()),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const cleaned = await runArchivePipeline(await Deno.readFile(builtins()!), [
        stripCustomSections({ remove: ["debug"] }),
      ]);
      await Deno.writeFile(`${dir}/builtins.rlib`, cleaned.bytes);
      const link = async (rlib: string, out: string) => {
        await rustLldWasm([
          "--export",
          "add",
          "--export",
          "collatz_steps",
          "--allow-undefined",
          "--no-entry",
          "--gc-sections",
          fixture("panic/small_lto.o"),
          rlib,
          "-o",
          out,
        ]);
        return readModule(await Deno.readFile(out));
      };
      const a = await link(builtins()!, `${dir}/a.wasm`);
      const b = await link(`${dir}/builtins.rlib`, `${dir}/b.wasm`);
      assert.deepEqual(b.section(10)!.payload, a.section(10)!.payload);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("archives take section passes only; opt writes an archive", async () => {
  const object = await Deno.readFile(fixture("c_objects/util.o"));
  const { writeArchive } = await import("../wasm/archive.ts");
  const input = writeArchive([{ name: "util.o", data: object }]);
  await assert.rejects(
    runArchivePipeline(input, [binaryenPasses({ passes: ["O2"] })]),
    /works on binaryen IR, which needs a linked module/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/lib.a`, input);
    const code = await main([
      "opt",
      `${dir}/lib.a`,
      "-o",
      `${dir}/out.a`,
      "--strip-custom-sections",
      "producers",
    ]);
    assert.equal(code, 0);
    const out = readArchive(await Deno.readFile(`${dir}/out.a`));
    assert.deepEqual(out.members.map((m) => m.name), ["util.o"]);
    assert.ok(out.symbols!.length > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
