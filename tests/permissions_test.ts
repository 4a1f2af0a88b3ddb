/**
 * Least privilege: the scoped permissions the README lists are enough, and a denial is one line
 * that names the flag (never a stack trace, never a cached "not found").
 */
import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";
import { fixture, needs, rustLld } from "./_tools.ts";

const APP = new URL("../examples/demo/app.wasm", import.meta.url).pathname;

const cli = (perms: string[], args: string[], cwd?: string) =>
  runCli(args, { perms, cwd, stdin: "null" });

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("opt needs only --allow-read=<input> --allow-write=<output folder>", async () => {
  const dir = await Deno.makeTempDir();
  const input = `${dir}/app.wasm`;
  await Deno.copyFile(APP, input);
  await Deno.mkdir(`${dir}/dist`);
  const perms = [`--allow-read=${input}`, `--allow-write=${dir}/dist`];
  const strip = await cli(perms, [
    "opt",
    input,
    "-o",
    `${dir}/dist/small.wasm`,
    "--strip-custom-sections",
  ]);
  assert.equal(strip.code, 0, strip.stderr);
  const ir = await cli(perms, ["opt", input, "-o", `${dir}/dist/trap.wasm`, "--panic", "trap"]);
  assert.equal(ir.code, 0, ir.stderr);
  const glue = await cli(perms, ["opt", input, "-o", `${dir}/dist/web/app.wasm`, "--js-glue"]);
  assert.equal(glue.code, 0, glue.stderr);
  assert.deepEqual(names(`${dir}/dist`), ["small.wasm", "trap.wasm", "web"]);
  assert.deepEqual(names(`${dir}/dist/web`), ["app.d.ts", "app.js", "app.wasm"]);
  for (const f of ["small.wasm", "trap.wasm", "web/app.wasm"]) {
    assert.ok(WebAssembly.validate(await Deno.readFile(`${dir}/dist/${f}`)), f);
  }
  const inspect = await cli([`--allow-read=${input}`], ["inspect", input]);
  assert.equal(inspect.code, 0, inspect.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a denied write names the output and the flag; nothing is left behind", async () => {
  const dir = await Deno.makeTempDir();
  const r = await cli([`--allow-read=${APP}`], [
    "opt",
    APP,
    "-o",
    `${dir}/out.wasm`,
    "--strip-custom-sections",
  ]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `error: Cannot write "${dir}/out.wasm": Deno denied write access; run with --allow-write=${dir} (or -A)`,
  );
  assert.deepEqual(names(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "link under partial permissions says the linker lookup was denied and remembers nothing",
  ...needs(rustLld()),
  async fn() {
    const dir = await Deno.makeTempDir();
    await Deno.copyFile(fixture("glue/app.o"), `${dir}/app.o`);
    const args = ["link", "--no-entry", "--allow-undefined", "app.o", "-o", "app.wasm"];
    const denied = await cli(
      ["--allow-env", `--allow-read=${dir}`, `--allow-write=${dir}`],
      args,
      dir,
    );
    assert.equal(denied.code, 1, denied.stderr);
    const lines = denied.stderr.trim().split("\n");
    assert.equal(lines.length, 1, denied.stderr);
    assert.match(lines[0], /^error: Cannot look for a WebAssembly linker: permission denied/);
    assert.match(lines[0], /--allow-(read|run)=/);
    assert.doesNotMatch(lines[0], /no rust-lld on PATH/);
    let memo: { sysroot?: { lld: string | null } } = {};
    try {
      memo = JSON.parse(await Deno.readTextFile(`${dir}/.linkpass/linker.json`));
    } catch { /* nothing remembered at all */ }
    assert.notEqual(memo.sysroot?.lld, null, "a denial is not remembered as 'no rust-lld'");
    // With every permission the same cache finds and uses rust-lld.
    const ok = await cli(["-A"], args, dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(WebAssembly.validate(await Deno.readFile(`${dir}/app.wasm`)));
    await Deno.remove(dir, { recursive: true });
  },
});
