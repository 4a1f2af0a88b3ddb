/**
 * Link-time panic in linker mode: with `panic` configured (LINKPASS_CONFIG), `link` rewrites the
 * panic roots in the inputs before wasm-ld runs: the crate's objects and the Wasm members of
 * std's rlibs (without LTO the roots live there), as cleaned copies in `.linkpass/prepared/`.
 * `--gc-sections` then drops the data only panics used. Real toolchains: Debian's rustc 1.63
 * (wasm32 std) builds small.rs without LTO; rust-lld (LLD 14) links through linkpass.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { link, type LinkResult } from "../linker/link.ts";
import { inputPasses } from "../linker/input_passes.ts";
import { sha256 } from "../linker/cache.ts";
import { UsageError } from "../errors.ts";
import { inputPassesLine } from "../cli/link.ts";
import { WasmModule } from "../wasm/module.ts";
import { readImports } from "../wasm/types.ts";
import { call, SMALL_CALLS } from "./_calls.ts";
import { builtins, fixture, needs, rustcWasm32, smallLinkArgs, tool } from "./_tools.ts";

const RUSTC_163 = tool("/usr/bin/rustc");
const LLD = tool("/usr/bin/rust-lld");

/**
 * Builds small.rs with rustc 1.63 (opt z, no LTO), its linker a shim that keeps the objects and
 * the arguments and then runs rust-lld: returns the folder, the link arguments (objects pointing
 * at the kept copies, `-o` at `out.wasm` there) and rustc's own module.
 */
async function build(): Promise<{ dir: string; args: string[]; plain: Uint8Array }> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass-panic-" });
  const keep = join(dir, "in");
  await Deno.mkdir(keep);
  const shim = join(dir, "ld.sh");
  await Deno.writeTextFile(
    shim,
    `#!/bin/sh
: > "${keep}/args.txt"
for a in "$@"; do
  case "$a" in
    *.o) cp "$a" "${keep}/" && printf '%s\\n' "${keep}/$(basename "$a")" >> "${keep}/args.txt" ;;
    *) printf '%s\\n' "$a" >> "${keep}/args.txt" ;;
  esac
done
exec /usr/bin/rust-lld "$@"
`,
    { mode: 0o755 },
  );
  const out = await rustcWasm32(shim, [
    "--crate-type",
    "cdylib",
    "-C",
    "opt-level=z",
    "-C",
    "codegen-units=1",
    fixture("panic/small.rs"),
    "-o",
    join(dir, "plain.wasm"),
  ], dir);
  assert.ok(out.success, out.stderr);
  const words = (await Deno.readTextFile(join(keep, "args.txt"))).trim().split("\n");
  assert.ok(!words.some((w) => w.startsWith("@")), "rustc 1.63 passes the arguments directly");
  const args = words.map((w) => (w === join(dir, "plain.wasm") ? join(dir, "out.wasm") : w));
  return { dir, args, plain: await Deno.readFile(join(dir, "plain.wasm")) };
}

/** Every input file of a link line (objects and archives), for the checksums. */
const inputFiles = (args: string[]) => args.filter((a) => /\.(o|rlib|a)$/.test(a));

/** Instantiates a module, giving it the memory it imports (linkpass's links import it). */
function instantiate(bytes: Uint8Array) {
  const imports: WebAssembly.Imports = {};
  for (const i of readImports(WasmModule.parse(bytes))) {
    if (i.kind !== "memory") continue;
    const memory = new WebAssembly.Memory({
      initial: Number(i.memory.min),
      maximum: i.memory.max === undefined ? undefined : Number(i.memory.max),
    });
    (imports[i.module] ??= {})[i.name] = memory;
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), imports);
  return instance.exports as unknown as Record<string, (...args: number[]) => number>;
}

const dataBytes = (bytes: Uint8Array) => WasmModule.parse(bytes).section(11)?.payload.length ?? 0;

Deno.test({
  name: "link with panic configured rewrites std's rlibs before the linker: data shrinks, " +
    "answers stay, originals untouched, the cache is reused and verified",
  ...needs(RUSTC_163, LLD),
  async fn() {
    const { dir, args, plain } = await build();
    try {
      const before = new Map<string, string>();
      for (const f of inputFiles(args)) before.set(f, await sha256(await Deno.readFile(f)));
      assert.ok([...before.keys()].some((f) => /libcore-.*\.rlib$/.test(f)));
      const config = JSON.stringify({
        linker: "/usr/bin/rust-lld",
        passes: { panic: true },
        measureInputPasses: true,
      });
      const warnings: string[] = [];
      const run = (): Promise<LinkResult> =>
        link({
          args,
          cwd: dir,
          env: (n) => (n === "LINKPASS_CONFIG" ? config : undefined),
          onWarning: (w) => warnings.push(w),
        });
      const first = await run();
      const out = await Deno.readFile(join(dir, "out.wasm"));
      const r = first.inputPasses!;
      assert.deepEqual(r.config, { panic: "trap" });
      // Without LTO the roots are in std's rlibs: core, alloc and std get rewritten copies.
      for (const crate of ["core", "alloc", "std"]) {
        assert.ok(
          r.made.some((f) => new RegExp(`lib${crate}-[0-9a-f]+\\.rlib$`).test(f)),
          `${crate} prepared: ${r.made}`,
        );
      }
      assert.ok(r.roots >= 10 && r.changed >= 3, JSON.stringify(r));
      // The linked module behaves as rustc's own link of the same objects.
      const a = instantiate(plain);
      const b = instantiate(out);
      for (const [name, callArgs] of SMALL_CALLS) {
        assert.deepEqual(call(b, name, callArgs), call(a, name, callArgs), `${name}(${callArgs})`);
      }
      // The data the pre-link rewrite removed, against the post-link pass's dead-data estimate.
      const m = r.measured!;
      assert.equal(m.dataBytes - r.dataBytes, m.dataBytesRemoved);
      assert.equal(dataBytes(out), r.dataBytes, "the post-link passes leave the data alone");
      assert.ok(m.deadDataEstimate! > 0);
      assert.ok(
        m.dataBytesRemoved >= 0.9 * m.deadDataEstimate!,
        `removed ${m.dataBytesRemoved} of the estimated ${m.deadDataEstimate}`,
      );
      assert.ok(r.codeBytes < m.codeBytes, `code ${m.codeBytes} -> ${r.codeBytes}`);
      console.log(
        `data ${m.dataBytes} -> ${r.dataBytes} (removed ${m.dataBytesRemoved}, post-link ` +
          `estimate ${m.deadDataEstimate}); code ${m.codeBytes} -> ${r.codeBytes}; ` +
          `${r.objects} objects, ${r.changed} changed, ${r.roots} roots; first link ` +
          `${first.timings.total.toFixed(0)} ms (scan ${first.timings.scan.toFixed(0)} ms)`,
      );
      assert.match(
        inputPassesLine(r)!,
        new RegExp(`data ${m.dataBytes} -> ${r.dataBytes} bytes \\(${m.dataBytesRemoved} removed`),
      );
      // The originals are byte for byte what they were.
      for (const [f, sum] of before) {
        assert.equal(await sha256(await Deno.readFile(f)), sum, `${f} unchanged`);
      }
      // A second link takes every copy from the cache, and links the same module.
      const second = await run();
      assert.deepEqual(second.inputPasses!.made, []);
      assert.deepEqual(second.inputPasses!.prepared, r.prepared);
      assert.deepEqual(await Deno.readFile(join(dir, "out.wasm")), out);
      console.log(`second link ${second.timings.total.toFixed(0)} ms`);
      // A copy with a flipped byte (same size) is noticed by its SHA-256 and made again.
      const prepared = join(dir, ".linkpass", "prepared");
      const names = [...Deno.readDirSync(prepared)].map((e) => e.name).sort();
      assert.equal(names.length, r.prepared.length);
      const victim = join(prepared, names[0]);
      const bytes = await Deno.readFile(victim);
      bytes[bytes.length >> 1] ^= 0xff;
      await Deno.writeFile(victim, bytes);
      const third = await run();
      assert.equal(third.inputPasses!.made.length, 1);
      assert.deepEqual(await Deno.readFile(join(dir, "out.wasm")), out);
      assert.ok(!warnings.some((w) => /relocation|stale/.test(w)), warnings.join("\n"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "inputPasses strips std's DWARF before the link; the module runs the same",
  ...needs(RUSTC_163, LLD),
  async fn() {
    const { dir, args, plain } = await build();
    try {
      const config = JSON.stringify({
        linker: "/usr/bin/rust-lld",
        inputPasses: { "strip-custom-sections": "debug" },
        passes: { "strip-custom-sections": "debug" },
      });
      const env = (n: string) => (n === "LINKPASS_CONFIG" ? config : undefined);
      const result = await link({ args, cwd: dir, env });
      const r = result.inputPasses!;
      assert.deepEqual(r.config, { "strip-custom-sections": "debug" });
      assert.equal(r.roots, 0);
      assert.ok(r.made.some((f) => /libstd-[0-9a-f]+\.rlib$/.test(f)));
      const sizes = (paths: string[]) => paths.reduce((n, p) => n + Deno.statSync(p).size, 0);
      const copies = [...Deno.readDirSync(join(dir, ".linkpass", "prepared"))]
        .map((e) => join(dir, ".linkpass", "prepared", e.name));
      assert.ok(sizes(copies) < 0.5 * sizes(r.prepared), "the copies lose most of their bytes");
      const out = await Deno.readFile(join(dir, "out.wasm"));
      const a = instantiate(plain);
      const b = instantiate(out);
      for (const [name, callArgs] of SMALL_CALLS) {
        assert.deepEqual(call(b, name, callArgs), call(a, name, callArgs), `${name}(${callArgs})`);
      }
      assert.ok(!WasmModule.parse(out).customSections().some((s) => s.name.startsWith(".debug")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("inputPasses: panic from passes in trap mode only; passes that need the whole module are refused", async () => {
  assert.deepEqual((await inputPasses({ passes: { panic: true } })).config, { panic: "trap" });
  assert.deepEqual((await inputPasses({ passes: { panic: "hook" } })).config, {});
  assert.deepEqual(
    (await inputPasses({ passes: { panic: { allowUnwindChange: true } } })).config,
    { panic: { mode: "trap", allowUnwindChange: true } },
    "the post-link pass's unwind consent covers the inputs",
  );
  assert.deepEqual(
    (await inputPasses({ passes: { panic: true }, inputPasses: { panic: false } })).passes,
    [],
  );
  assert.deepEqual((await inputPasses({})).passes, []);
  const a = await inputPasses({ inputPasses: { "strip-custom-sections": "debug" } });
  const b = await inputPasses({ inputPasses: { "strip-custom-sections": "producers" } });
  assert.notEqual(a.key, b.key, "another configuration makes other copies");
  await assert.rejects(
    () => inputPasses({ inputPasses: { dce: true }, source: "deno.json" }),
    (e) => e instanceof UsageError && /"dce" cannot run on the linker's inputs/.test(e.message),
  );
  await assert.rejects(
    () => inputPasses({ inputPasses: { panic: "hook" } }),
    (e) => e instanceof UsageError && /only in trap mode/.test(e.message),
  );
  assert.ok(existsSync(fixture("panic/small.rs")));
});

Deno.test({
  name: "link with panic configured rewrites a fat-LTO object (every crate in one .o)",
  ...needs(LLD, builtins()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linkpass-panic-lto-" });
    try {
      const object = join(dir, "small_lto.o");
      await Deno.copyFile(fixture("panic/small_lto.o"), object);
      const original = await Deno.readFile(object);
      const args = (out: string) => ["-flavor", "wasm", ...smallLinkArgs(object, out)];
      const env = (config: unknown) => (n: string) =>
        n === "LINKPASS_CONFIG" ? JSON.stringify(config) : undefined;
      const linker = "/usr/bin/rust-lld";
      await link({ args: args("plain.wasm"), cwd: dir, env: env({ linker }) });
      const result = await link({
        args: args("small.wasm"),
        cwd: dir,
        env: env({ linker, passes: { panic: "trap" } }),
      });
      const r = result.inputPasses!;
      assert.deepEqual(r.made, [object]);
      assert.equal(r.roots, 15);
      assert.equal(r.callSites, 24);
      assert.ok(r.measured === undefined, "measured only when asked");
      const plain = await Deno.readFile(join(dir, "plain.wasm"));
      const small = await Deno.readFile(join(dir, "small.wasm"));
      assert.ok(
        dataBytes(small) < dataBytes(plain) - 3000,
        `${dataBytes(plain)} -> ${dataBytes(small)}`,
      );
      const a = instantiate(plain);
      const b = instantiate(small);
      for (const [name, callArgs] of SMALL_CALLS) {
        assert.deepEqual(call(b, name, callArgs), call(a, name, callArgs), `${name}(${callArgs})`);
      }
      assert.deepEqual(await Deno.readFile(object), original);
      const copies = [...Deno.readDirSync(join(dir, ".linkpass", "prepared"))].map((e) => e.name);
      assert.equal(copies.length, 1);
      assert.match(copies[0], /\.o$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("LINKPASS_CONFIG: inputPasses must be an object, measureInputPasses a boolean", async () => {
  const { loadConfig } = await import("../linker/config.ts");
  const env = (text: string) => (n: string) => n === "LINKPASS_CONFIG" ? text : undefined;
  await assert.rejects(
    () => loadConfig("/", env(`{"inputPasses": ["panic"]}`)),
    /"inputPasses" must be an object of pass names/,
  );
  await assert.rejects(
    () => loadConfig("/", env(`{"measureInputPasses": "yes"}`)),
    /"measureInputPasses" must be true or false/,
  );
  const config = await loadConfig(
    "/",
    env(`{"inputPasses": {"strip-custom-sections": "debug"}, "measureInputPasses": true}`),
  );
  assert.deepEqual((await inputPasses(config)).passes.map((p) => p.name), [
    "strip-custom-sections",
  ]);
  assert.equal(config.measureInputPasses, true);
});
