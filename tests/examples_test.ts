/**
 * The examples gallery runs as users run it: the pass modules through `opt --pass`, the scripts
 * with `deno run`, the user project with `deno task`. Each checks what the example promises.
 */
import assert from "node:assert/strict";
import { readExports, WasmModule } from "../mod.ts";
import { REPO, runDeno } from "./_cli.ts";
import { withTempDir } from "./_tools.ts";

const ROOT = REPO;
const APP = `${ROOT}examples/demo/app.wasm`;

const run = (args: string[], cwd = ROOT) => runDeno(args, { cwd });
const opt = (...args: string[]) => run(["run", "-A", `${ROOT}cli.ts`, "opt", APP, ...args]);

async function exportsOf(path: string): Promise<string[]> {
  const bytes = await Deno.readFile(path);
  await WebAssembly.instantiate(bytes as BufferSource, {}); // it still links and starts
  return readExports(WasmModule.parse(bytes)).map((e) => e.name);
}

Deno.test("examples/section_pass.ts takes its option and runs before strip-custom-sections", async () => {
  await withTempDir(async (dir) => {
    const r = await opt(
      "-o",
      `${dir}/out.wasm`,
      "--report",
      "json",
      "--strip-custom-sections",
      "debug",
      "--pass",
      "./examples/section_pass.ts",
      "--pass-option",
      "section=name",
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { passes: { name: string; report: unknown }[] };
    assert.deepEqual(report.passes.map((p) => p.name), ["drop-section", "strip-custom-sections"]);
    assert.deepEqual(report.passes[0].report, { section: "name", dropped: 1 });
    const names = WasmModule.parse(await Deno.readFile(`${dir}/out.wasm`)).customSections()
      .map((s) => s.name);
    assert.deepEqual(names, ["linkpass.fixture", "producers"]);

    const bad = await opt(
      "-o",
      `${dir}/bad.wasm`,
      "--pass",
      "./examples/section_pass.ts",
      "--pass-option",
      "sectoin=x",
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^error: .*Unknown option "sectoin" of pass "drop-section": use "section"\n$/,
    );
  });
});

Deno.test("examples/ir_pass.ts removes an export and what only it reached", async () => {
  await withTempDir(async (dir) => {
    const r = await opt(
      "-o",
      `${dir}/out.wasm`,
      "--report",
      "json",
      "--pass",
      "./examples/ir_pass.ts",
      "--pass-option",
      "export=fib_at",
    );
    assert.equal(r.code, 0, r.stderr);
    const { passes } = JSON.parse(r.stdout) as {
      passes: { report: { removed: string[]; functionsBefore: number; functionsAfter: number } }[];
    };
    assert.deepEqual(passes[0].report.removed, ["fib_at"]);
    assert.ok(passes[0].report.functionsAfter < passes[0].report.functionsBefore);
    const names = await exportsOf(`${dir}/out.wasm`);
    assert.ok(!names.includes("fib_at") && names.includes("checked_div"), names.join());
  });
});

Deno.test("examples/compose_pipeline.ts prints its report and the module still works", async () => {
  const r = await run(["run", "-A", "examples/compose_pipeline.ts"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^drop-exports: \{"removed":\["fib_at"\]/m);
  assert.match(r.stdout, /^180263 → \d+ bytes, validated: true$/m);
  assert.match(r.stdout, /^exports: memory, add, checked_div, parse_positive, sum_to,/m);
});

Deno.test("examples/panic_hook.ts reports the panic's location through the JS hook", async () => {
  const r = await run(["run", "-A", "examples/panic_hook.ts"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /84 \/ 2 = 42/);
  assert.match(r.stdout, /panicked at small\.rs:\d+:\d+\n/);
});

Deno.test("examples/user_pass.ts renames the exports", async () => {
  await withTempDir(async (dir) => {
    const r = await opt("-o", `${dir}/up.wasm`, "--pass", "./examples/user_pass.ts");
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await exportsOf(`${dir}/up.wasm`)).includes("CHECKED_DIV"));
  });
});

Deno.test("examples/user_project: deno task shrink applies the deno.json linkpass configuration", async () => {
  const project = `${ROOT}examples/user_project`;
  await Deno.remove(`${project}/dist`, { recursive: true }).catch(() => {});
  try {
    const r = await run(["task", "shrink"], project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /→ dist\/app\.wasm: 180263 → \d+ bytes \(panic, strip-custom-sections\)/,
    );
    const out = await Deno.readFile(`${project}/dist/app.wasm`);
    const names = WasmModule.parse(out).customSections().map((s) => s.name).sort();
    assert.deepEqual(names, ["linkpass.fixture", "name"], "debug and producers removed, name kept");
    const { instance } = await WebAssembly.instantiate(out as BufferSource, {});
    assert.equal((instance.exports.checked_div as (a: number, b: number) => number)(84, 2), 42);
  } finally {
    await Deno.remove(`${project}/dist`, { recursive: true }).catch(() => {});
  }
});

Deno.test("a user pass that throws is one labelled line, and no output is written", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/boom.ts`,
      `export default { name: "boom", description: "throws", level: "sections",
  run() { throw new Error("something broke\\nat a second line"); } };\n`,
    );
    const r = await opt("-o", `${dir}/out.wasm`, "--pass", `${dir}/boom.ts`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: pass "boom" failed: something broke\n');
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["boom.ts"]);
  });
});
