/**
 * The linker under cargo's parallelism and with a tampered cache: links of one output running in
 * separate processes each leave a complete module with matching glue; an edited manifest or a
 * flipped byte in a cleaned archive is noticed and rebuilt; rustc's flavor mistakes become one
 * line naming the fix.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { link } from "../linker/link.ts";
import { decodeJsOutput, JS_OUTPUT_SECTION } from "../glue/js_output.ts";
import { writeArchive } from "../wasm/archive.ts";
import { WasmModule } from "../wasm/module.ts";
import { UsageError } from "../errors.ts";
import { fixture, needs, rustLld, tool } from "./_tools.ts";

const LLD = rustLld();
const RUSTC_163 = tool("/usr/bin/rustc");
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const OBJECT = fixture("link/externref/externref.o");
const FLAGS = ["-flavor", "wasm", "--export", "run", "--no-entry", "--allow-undefined"];

/** The module's js_output imports, and whether its glue has them (the two must agree). */
async function checkPair(dir: string) {
  const module = WasmModule.parse(await Deno.readFile(join(dir, "app.wasm")));
  const output = decodeJsOutput(module.section(JS_OUTPUT_SECTION)!.payload);
  const glue = await Deno.readTextFile(join(dir, "app.js"));
  const names = [...output.jsImport].flatMap(([m, n]) => [...n.keys()].map((k) => `${m}/${k}`));
  assert.ok(names.length >= 4, `imports in js_output: ${names}`);
  for (const [m, n] of output.jsImport) {
    for (const name of n.keys()) {
      assert.ok(
        glue.includes(`namespace(importObject, ${JSON.stringify(m)})[${JSON.stringify(name)}]`),
        name,
      );
    }
  }
  return names;
}

Deno.test(
  "links of one output in parallel processes leave a complete module and matching glue",
  needs(LLD),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_parallel_" });
    const reference = await link({
      args: [...FLAGS, OBJECT, "-o", "app.wasm"],
      cwd: dir,
      config: {},
    });
    const expected = await checkPair(dir);
    const moduleBytes = await Deno.readFile(reference.output);
    const glueText = await Deno.readTextFile(join(dir, "app.js"));
    for (let round = 0; round < 3; round++) {
      const links = Array.from({ length: 4 }, () =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--config", CONFIG, CLI, "link", ...FLAGS, OBJECT, "-o", "app.wasm"],
          cwd: dir,
          stdout: "piped",
          stderr: "piped",
          env: { LINKPASS_CONFIG: "{}" },
        }).output());
      for (const out of await Promise.all(links)) {
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      }
      assert.deepEqual(await checkPair(dir), expected);
      assert.deepEqual(await Deno.readFile(join(dir, "app.wasm")), moduleBytes);
      assert.equal(await Deno.readTextFile(join(dir, "app.js")), glueText);
    }
    // Nothing private is left behind.
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, [".linkpass", "app.d.ts", "app.js", "app.wasm"]);
    assert.deepEqual([...Deno.readDirSync(join(dir, ".linkpass"))].map((e) => e.name).sort(), [
      "linker.json",
      "manifests",
      "objects",
    ]);
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test(
  "the cache rebuilds what it cannot verify: an edited manifest, a flipped byte in a cleaned archive",
  needs(LLD),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_tamper_" });
    // The crate object in an rlib with a non-object member: linked through a cleaned copy.
    await Deno.writeFile(
      join(dir, "libapp.rlib"),
      writeArchive([
        { name: "app.o", data: await Deno.readFile(OBJECT) },
        { name: "lib.rmeta", data: new TextEncoder().encode("metadata") },
      ]),
    );
    const args = [...FLAGS, "--whole-archive", "libapp.rlib", "-o", "app.wasm"];
    const first = await link({ args, cwd: dir, config: {} });
    assert.deepEqual(first.cleanedArchives, ["libapp.rlib"]);
    assert.equal(first.objects.assembled, 1);
    const good = await Deno.readFile(join(dir, "app.wasm"));
    const manifestPath = join(dir, ".linkpass", "manifests", "app.wasm.json");

    // 1. A manifest edited but still valid JSON (its scan now says: no fragments, no JS).
    const manifest = JSON.parse(await Deno.readTextFile(manifestPath));
    for (
      const scan of Object.values(manifest.inputs) as { fragments: unknown[]; js: unknown[] }[]
    ) {
      scan.fragments = [];
      scan.js = [];
    }
    await Deno.writeTextFile(manifestPath, JSON.stringify(manifest));
    await link({ args, cwd: dir, config: {} });
    assert.deepEqual(await Deno.readFile(join(dir, "app.wasm")), good);

    // 2. The cleaned archive with one byte flipped: same size, header intact.
    const archives = join(dir, ".linkpass", "archives");
    const [cleaned] = [...Deno.readDirSync(archives)].map((e) => e.name);
    const path = join(archives, cleaned);
    const data = await Deno.readFile(path);
    const at = data.length - 200;
    data[at] ^= 0xff;
    await Deno.writeFile(path, data);
    await link({ args, cwd: dir, config: {} });
    assert.deepEqual(await Deno.readFile(join(dir, "app.wasm")), good);
    assert.notEqual((await Deno.readFile(path))[at], data[at], "the copy was rebuilt");

    // 3. The manifest's checksum is checked: a link with an untouched cache reuses its scans.
    const again = await link({ args, cwd: dir, config: {} });
    assert.deepEqual(again.objects, { total: 1, assembled: 0 });
    await Deno.remove(dir, { recursive: true });
  },
);

Deno.test("GNU ld arguments and -flavor gnu are one line naming -C linker-flavor=wasm-ld", async () => {
  for (
    const args of [
      ["-shared", "lib.o", "-o", "app.wasm", "--gc-sections"],
      ["-flavor", "gnu", "lib.o", "-o", "app.wasm"],
    ]
  ) {
    const e = await link({ args, config: {} }).catch((e) => e);
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.exitCode, 2);
    assert.equal(e.message.split("\n").length, 1);
    assert.match(e.message, /-C linker-flavor=wasm-ld/);
  }
  // --shared with --experimental-pic is a real wasm-ld link: not refused.
  const pic = await link({ args: ["-shared", "--experimental-pic", "missing.o"], config: {} })
    .catch((e) => e);
  assert.ok(!(pic instanceof UsageError) || !/linker-flavor/.test(pic.message));
});

Deno.test(
  "rustc 1.63 with a shim named *-ld and no linker-flavor gets one error line",
  needs(RUSTC_163),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_flavor_" });
    const shim = join(dir, "linkpass-ld");
    await Deno.writeTextFile(
      shim,
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A --config "${CONFIG}" "${CLI}" link "$@"\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(
      join(dir, "lib.rs"),
      '#[no_mangle] pub extern "C" fn f() -> i32 { 1 }\n',
    );
    const out = await new Deno.Command("/usr/bin/rustc", {
      args: [
        "--target",
        "wasm32-unknown-unknown",
        "--crate-type",
        "cdylib",
        "-C",
        `linker=${shim}`,
        "lib.rs",
      ],
      cwd: dir,
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.success, false);
    const ours = stderr.split("\n").filter((l) => l.includes("linkpass-ld got GNU ld arguments"));
    assert.equal(ours.length, 1, stderr);
    assert.match(ours[0], /add "-C linker-flavor=wasm-ld"/);
    assert.doesNotMatch(stderr, /recompile with -fPIC/);
    await Deno.remove(dir, { recursive: true });
  },
);
