/**
 * End to end with Debian's rustc 1.63 (`-C linker-flavor=wasm-ld`, linkpass as the linker): a
 * binary and two `--test` harnesses (one with js_bindgen.test records, one with no tests) are
 * linked by linkpass and run by `linkpass run` in Deno, Node and headless Chromium, with the same
 * output and exit codes in all three.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { WasmModule } from "../wasm/module.ts";
import { fixture, needs, rustcWasm32, tool } from "./_tools.ts";

const RUSTC = tool("/usr/bin/rustc");
const NODE = tool("node");
const CHROMIUM = tool("chromium");
const CLI = new URL("../cli.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

async function rustc(dir: string, args: string[]) {
  const out = await rustcWasm32(join(dir, "linkpass-ld"), args, dir);
  assert.ok(out.success, out.stderr);
}

async function run(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, CLI, "run", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) =>
    new TextDecoder().decode(b).replace(/finished in \d+\.\d+s/, "finished in <t>s");
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test({
  name:
    "rustc 1.63 binaries and test harnesses linked by linkpass run alike in deno, node and chromium",
  ...needs(RUSTC, NODE, CHROMIUM),
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_rustc_" });
    await Deno.writeTextFile(
      join(dir, "linkpass-ld"),
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A --config "${CONFIG}" "${CLI}" link "$@"\n`,
      { mode: 0o755 },
    );
    for (const f of ["records.rs", "tests.rs", "cargo_hello/src/main.rs"]) {
      await Deno.copyFile(fixture(`glue/${f}`), join(dir, f.split("/").pop()!));
    }
    // main.rs includes records.rs by a path relative to its own directory.
    await Deno.writeTextFile(
      join(dir, "main.rs"),
      (await Deno.readTextFile(join(dir, "main.rs"))).replace("../../records.rs", "records.rs"),
    );
    await rustc(dir, ["-O", "main.rs", "-o", "hello.wasm"]);
    await rustc(dir, ["--test", "-O", "tests.rs", "-o", "tests.wasm"]);
    await rustc(dir, ["--test", "main.rs", "-o", "no_tests.wasm"]);
    const sections = (file: string) =>
      WasmModule.parse(Deno.readFileSync(join(dir, file))).customSections().map((s) => s.name)
        .filter((n) => n.startsWith("js_bindgen."));
    assert.deepEqual(sections("hello.wasm"), ["js_bindgen.is_compat", "js_bindgen.js_output"]);
    assert.deepEqual(sections("no_tests.wasm"), [
      "js_bindgen.is_compat",
      "js_bindgen.is_test",
      "js_bindgen.js_output",
    ]);
    assert.ok(sections("tests.wasm").includes("js_bindgen.test"));

    const cases: [string, string[], number, RegExp][] = [
      ["a binary", ["hello.wasm"], 0, /^hello from cargo run: 42\n$/],
      ["a harness", ["tests.wasm"], 101, /test result: FAILED\. 4 passed; 3 failed; 2 ignored;/],
      ["a filtered harness", ["tests.wasm", "panics", "--exact", "panics::any"], 0, /1 passed/],
      ["a harness without tests", ["no_tests.wasm"], 0, /^\nrunning 0 tests\n/],
    ];
    for (const [name, args, code, pattern] of cases) {
      await t.step(name, async () => {
        const results = [];
        for (const engine of ["deno", "node", "chromium"]) {
          const r = await run(["--engine", engine, ...args.map((a, i) => i ? a : join(dir, a))]);
          assert.equal(r.code, code, `${engine}: ${r.stdout}${r.stderr}`);
          assert.match(r.stdout, pattern, engine);
          results.push(r);
        }
        assert.deepEqual(results[1], results[0], "node = deno");
        assert.deepEqual(results[2], results[0], "chromium = deno");
      });
    }
    await Deno.remove(dir, { recursive: true });
  },
});
