/**
 * Link-time panic: the trap rewrite applied to the relocatable object before the link (rustc's
 * fat-LTO object of the small_z crate: every crate in one object), relocations following the
 * bytes, then the real linker with `--gc-sections`. The linked module behaves as before and loses
 * the data only panics used: at least 90 % of the dead-data estimate the post-link pass reports on
 * the same crate (in fact far more: gc-sections also drops core::fmt's tables and strings).
 */
import assert from "node:assert/strict";
import { panic, readModule, readRelocs, runPipeline } from "../mod.ts";
import { panicObject } from "../passes/_panic_object.ts";
import { WasmModule } from "../wasm/module.ts";
import { call, instantiate, SMALL_CALLS } from "./_calls.ts";
import {
  builtins,
  fixture,
  needs,
  rustLld,
  rustLldWasm,
  smallLinkArgs,
  wasm32Rlib,
} from "./_tools.ts";

/** rustc 1.63's link line for small.rs as a cdylib (tests/fixtures/panic/build.sh). */
async function link(object: Uint8Array): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/in.o`, object);
    await rustLldWasm(smallLinkArgs(`${dir}/in.o`, `${dir}/out.wasm`));
    return await Deno.readFile(`${dir}/out.wasm`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const dataBytes = (bytes: Uint8Array) => readModule(bytes).section(11)?.payload.length ?? 0;
const codeBytes = (bytes: Uint8Array) => readModule(bytes).section(10)?.payload.length ?? 0;

Deno.test({
  name: "panic before the link: gc-sections drops the panic data, results stay the same",
  ...needs(rustLld(), builtins()),
  async fn() {
    const object = await Deno.readFile(fixture("panic/small_lto.o"));
    const m = WasmModule.parse(object);
    const relocsBefore = readRelocs(m, m.customSections("reloc.CODE")[0]).entries.length;
    const report = await panicObject(m);
    assert.equal(report.roots.length, 15);
    assert.equal(report.callSitesRewritten, 24);
    const relocsAfter = readRelocs(m, m.customSections("reloc.CODE")[0]).entries.length;
    assert.equal(relocsBefore - relocsAfter, report.relocationsDropped);
    assert.ok(report.relocationsDropped > 0);

    const plain = await link(object);
    const rewritten = await link(m.toBytes());
    assert.ok(WebAssembly.validate(rewritten as BufferSource));
    const before = instantiate(plain);
    const after = instantiate(rewritten);
    for (const [name, args] of SMALL_CALLS) {
      assert.deepEqual(call(after, name, args), call(before, name, args), `${name}(${args})`);
    }
    // The post-link pass on the same crate estimates the data it cannot remove.
    const post = await runPipeline(plain, [panic({ mode: "trap" })]);
    const estimate = (post.report.passes[0].report.deadData as { total: number }).total;
    const removed = dataBytes(plain) - dataBytes(rewritten);
    console.log(
      `data removed ${removed} bytes (estimate ${estimate}); code ${codeBytes(plain)} -> ${
        codeBytes(rewritten)
      }`,
    );
    assert.ok(estimate > 0);
    assert.ok(removed >= 0.9 * estimate, `removed ${removed} of the estimated ${estimate}`);
    assert.ok(codeBytes(rewritten) < 0.15 * codeBytes(plain), "code shrinks by > 85 %");
  },
});

Deno.test("opt --panic on an object runs the object rewrite (trap mode)", async () => {
  const object = await Deno.readFile(fixture("panic/small_lto.o"));
  const { bytes, report } = await runPipeline(object, [panic({ mode: "trap" })]);
  const r = report.passes[0].report;
  assert.equal(r.object, true);
  assert.equal((r.roots as unknown[]).length, 15);
  assert.ok(readModule(bytes).isRelocatable);
  assert.ok((r.codeBytesAfter as number) < (r.codeBytesBefore as number));
});

Deno.test("the object rewrite is the same when an earlier pass re-encoded the code section", async () => {
  // A section given new bytes has no file offset any more; the relocations must still follow.
  const object = await Deno.readFile(fixture("panic/small_lto.o"));
  const asRead = readModule(object);
  await panicObject(asRead);
  const rebuilt = readModule(object);
  rebuilt.setPayload(rebuilt.section(10)!, rebuilt.section(10)!.payload.slice());
  await panicObject(rebuilt);
  assert.deepEqual(rebuilt.toBytes(), asRead.toBytes());
});

/** Debian's libstd rlib for wasm32: members with DWARF and panic roots. */
const libstd = () => wasm32Rlib("std");

Deno.test({
  name: "panic on an object with DWARF drops the stale .debug_* with their relocations",
  ...needs(rustLld(), libstd()),
  async fn() {
    const { readArchive } = await import("../wasm/archive.ts");
    const members = readArchive(await Deno.readFile(libstd()!)).members;
    // A std member that defines panic roots and carries DWARF with its relocations.
    let checked = 0;
    for (const member of members) {
      if (!member.name.endsWith(".o")) continue;
      const before = readModule(member.data);
      if (!before.customSections().some((s) => s.name === "reloc..debug_info")) continue;
      const { bytes, report } = await runPipeline(member.data, [panic({ mode: "trap" })], {
        validate: false,
      });
      if (((report.passes[0].report.roots as unknown[]) ?? []).length === 0) continue;
      const names = readModule(bytes).customSections().map((s) => s.name);
      assert.ok(
        !names.some((n) => n.startsWith(".debug_") || n.startsWith("reloc..debug")),
        names.join(" "),
      );
      assert.ok(names.includes("reloc.CODE") && names.includes("linking"));
      assert.equal(report.staleDebug?.action, "dropped");
      // The linker takes the object (it refused the dangling reloc..debug_* with "invalid
      // relocation offset").
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeFile(`${dir}/m.o`, bytes);
        await rustLldWasm(["-r", `${dir}/m.o`, "-o", `${dir}/r.o`]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
      checked++;
    }
    assert.ok(checked >= 3, `${checked} members checked`);
  },
});

Deno.test("panic on an object with an exception tag (panic=unwind) is refused unless allowed", async () => {
  const m = readModule(await Deno.readFile(fixture("panic/small_lto.o")));
  m.setSection(13, new Uint8Array([1, 0, 0])); // one tag (attribute 0) of type 0
  const object = m.toBytes();
  await assert.rejects(
    () => runPipeline(object, [panic({ mode: "trap" })], { validate: false }),
    /looks built with panic=unwind \(it has 1 exception tag\(s\)\)/,
  );
  const { report } = await runPipeline(
    object,
    [panic({ mode: "trap", allowUnwindChange: true })],
    { validate: false },
  );
  const r = report.passes[0].report;
  assert.deepEqual(r.unwindChangeAllowed, ["1 exception tag(s)"]);
  assert.equal((r.roots as unknown[]).length, 15);
});
