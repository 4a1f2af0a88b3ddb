import assert from "node:assert/strict";
import { dce, panic, readModule, runPipeline, stripCustomSections } from "../mod.ts";
import { runCli } from "./_cli.ts";
import { fixture } from "./_tools.ts";

const APP = fixture("rust_cdylib/app.wasm");

/** Runs the CLI in a subprocess (non-TTY) and returns its exit code and output. */
const cli = (args: string[], cwd?: string) => runCli(args, { cwd });

/** Replaces the temp directory and the repository path so snapshots are stable. */
function stable(text: string, dir?: string): string {
  let s = text.replaceAll(new URL("..", import.meta.url).pathname, "<repo>/");
  if (dir) s = s.replaceAll(dir, "<tmp>");
  return s.replace(/\d+\.\d+ m?s\b/g, "<ms> ms");
}

Deno.test("cli --help, opt --help and passes print the registry's help", async (t) => {
  for (const args of [["--help"], ["opt", "--help"], ["inspect", "--help"], ["passes"]]) {
    const r = await cli(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.equal(r.stderr, "");
    await t.assertSnapshot(r.stdout);
  }
});

Deno.test("cli passes --json lists every pass with its options", async () => {
  const r = await cli(["passes", "--json"]);
  const list = JSON.parse(r.stdout) as {
    name: string;
    main?: string;
    options: Record<string, { kind: string; default?: unknown }>;
    flags: string[];
  }[];
  assert.deepStrictEqual(list.map((p) => p.name), [
    "panic",
    "externref-batch",
    "dce",
    "binaryen",
    "js-glue",
    "strip-custom-sections",
  ]);
  const strip = list.find((p) => p.name === "strip-custom-sections")!;
  assert.deepStrictEqual(Object.keys(strip.options), ["remove", "keep"]);
  assert.strictEqual(strip.main, "remove");
  assert.deepStrictEqual(strip.options.remove, {
    ...strip.options.remove,
    kind: "list",
    default: ["all"],
  });
  assert.deepStrictEqual(strip.flags, ["--strip-custom-sections [selector]", "--keep <selector>"]);
});

Deno.test("cli inspect shows sections, custom sections, counts and names", async (t) => {
  const r = await cli(["inspect", APP]);
  assert.equal(r.code, 0);
  await t.assertSnapshot(stable(r.stdout));
  const json = JSON.parse((await cli(["inspect", "--json", fixture("c_objects/util.o")])).stdout);
  assert.equal(json.relocatable, true);
  assert.equal(json.functions.defined, 4);
});

Deno.test("cli opt strips, writes atomically and reports", async (t) => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/app.min.wasm`;
  const r = await cli([
    "opt",
    APP,
    "-o",
    out,
    "--strip-custom-sections",
    "debug",
    "--strip-custom-sections",
    "producers",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "no progress output when stderr is not a TTY");
  await t.assertSnapshot(stable(r.stdout, dir));
  const names = readModule(await Deno.readFile(out)).customSections().map((s) => s.name);
  assert.deepEqual(names, ["linkpass.fixture", "name"]);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["app.min.wasm"]);
  const json = await cli([
    "opt",
    APP,
    "-o",
    out,
    "--strip-custom-sections",
    "--keep",
    "name",
    "--report",
    "json",
  ]);
  const report = JSON.parse(json.stdout);
  assert.equal(report.passes[0].name, "strip-custom-sections");
  assert.equal(report.outputBytes, (await Deno.stat(out)).size);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli opt --pass loads the README's user pass", async () => {
  const dir = await Deno.makeTempDir();
  const r = await cli(
    ["opt", APP, "-o", `${dir}/up.wasm`, "--pass", "./examples/user_pass.ts"],
    new URL("..", import.meta.url).pathname,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /upper-case-exports: .*\n {2}renamed: 8/);
  const { instance } = await WebAssembly.instantiate(await Deno.readFile(`${dir}/up.wasm`), {});
  assert.equal((instance.exports.ADD as CallableFunction)(20, 22), 42);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli refuses to overwrite the input without --in-place, and --in-place replaces it", async () => {
  const dir = await Deno.makeTempDir();
  const copy = `${dir}/app.wasm`;
  await Deno.copyFile(APP, copy);
  const before = await Deno.readFile(copy);
  const r = await cli(["opt", copy, "-o", copy, "--strip-custom-sections"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: Refusing to overwrite the input ".*app.wasm": pass --in-place/);
  assert.deepEqual(await Deno.readFile(copy), before);
  const ok = await cli(["opt", copy, "--in-place", "--strip-custom-sections"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok((await Deno.stat(copy)).size < before.length);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "cli --in-place and -o on a symbolic link write the file it points to, and keep the link",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir();
    // As in a pnpm node_modules: the package's file is a link into a store folder.
    await Deno.mkdir(`${dir}/store`);
    const real = `${dir}/store/app.wasm`;
    await Deno.copyFile(APP, real);
    const before = (await Deno.readFile(real)).length;
    await Deno.symlink(real, `${dir}/app.wasm`);
    const ok = await cli(["opt", `${dir}/app.wasm`, "--in-place", "--strip-custom-sections"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((await Deno.lstat(`${dir}/app.wasm`)).isSymlink, "the link stays a link");
    assert.ok((await Deno.stat(real)).size < before, "the file it points to is replaced");
    // -o naming an existing link to another file: that file gets the output.
    await Deno.writeFile(`${dir}/store/old.wasm`, new Uint8Array(8));
    await Deno.symlink(`${dir}/store/old.wasm`, `${dir}/out.wasm`);
    const o = await cli(["opt", APP, "-o", `${dir}/out.wasm`, "--strip-custom-sections"]);
    assert.equal(o.code, 0, o.stderr);
    assert.ok((await Deno.lstat(`${dir}/out.wasm`)).isSymlink);
    assert.ok(WebAssembly.validate(await Deno.readFile(`${dir}/store/old.wasm`)));
    assert.deepEqual([...Deno.readDirSync(`${dir}/store`)].map((e) => e.name).sort(), [
      "app.wasm",
      "old.wasm",
    ]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("cli errors are one line, with exit code 2 for usage and 1 for bad input, and no output file", async (t) => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/notes.txt`, "just text\n");
  await Deno.writeFile(
    `${dir}/elf.o`,
    new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  );
  await Deno.writeFile(`${dir}/cut.wasm`, (await Deno.readFile(APP)).subarray(0, 5000));
  await Deno.writeTextFile(`${dir}/bad_pass.ts`, "export default 42;\n");
  const cases: [string, string[], number][] = [
    ["missing file", [
      "opt",
      `${dir}/nope.wasm`,
      "-o",
      `${dir}/out.wasm`,
      "--strip-custom-sections",
    ], 1],
    [
      "text file",
      ["opt", `${dir}/notes.txt`, "-o", `${dir}/out.wasm`, "--strip-custom-sections"],
      1,
    ],
    ["ELF object", ["inspect", `${dir}/elf.o`], 1],
    ["truncated module", [
      "opt",
      `${dir}/cut.wasm`,
      "-o",
      `${dir}/out.wasm`,
      "--strip-custom-sections",
    ], 1],
    ["no output", ["opt", APP], 2],
    ["unknown flag", ["opt", APP, "-o", `${dir}/out.wasm`, "--frobnicate"], 2],
    ["bad selector", ["opt", APP, "-o", `${dir}/out.wasm`, "--strip-custom-sections", "a*b"], 2],
    ["keep without strip", ["opt", APP, "-o", `${dir}/out.wasm`, "--keep", "name"], 2],
    ["bad report format", ["opt", APP, "-o", `${dir}/out.wasm`, "--report", "xml"], 2],
    ["bad user pass", ["opt", APP, "-o", `${dir}/out.wasm`, "--pass", `${dir}/bad_pass.ts`], 2],
    ["directory", ["inspect", dir], 1],
  ];
  for (const [what, args, code] of cases) {
    const r = await cli(args);
    assert.equal(r.code, code, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, "", what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    assert.match(r.stderr, /^error: /, what);
    await t.assertSnapshot(`${what}: ${stable(r.stderr.split("\n")[0], dir)}`);
  }
  const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(
    left,
    ["bad_pass.ts", "cut.wasm", "elf.o", "notes.txt"],
    "no output and no temp files",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli opt --validate-each names the pass that broke the module", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/break.ts`,
    `import { SectionId } from "${new URL("../mod.ts", import.meta.url).href}";
export default { name: "drop-code", description: "drops the code section", level: "sections",
  run(m) { m.sections = m.sections.filter((s) => s.id !== SectionId.code); } };\n`,
  );
  const r = await cli([
    "opt",
    APP,
    "-o",
    `${dir}/out.wasm`,
    "--pass",
    `${dir}/break.ts`,
    "--validate-each",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: the module is invalid after pass "drop-code": /);
  const final = await cli(["opt", APP, "-o", `${dir}/out.wasm`, "--pass", `${dir}/break.ts`]);
  assert.match(final.stderr, /^error: the output module is invalid: /);
  assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name.endsWith(".wasm")), "no output written");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli demo runs the main job on the bundled example", async () => {
  const r = await cli(["demo"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /strip-custom-sections: /);
  assert.match(r.stdout, /bytesSaved: \d+/);
});

Deno.test("cli opt joins its output into the input's buffer: the same bytes as the library writes", async () => {
  const dir = await Deno.makeTempDir();
  const input = await Deno.readFile(APP);
  for (
    const [flags, passes] of [
      [["--dce"], [dce()]],
      [["--panic", "trap", "--dce", "--strip-custom-sections", "producers"], [
        panic({ mode: "trap" }),
        dce(),
        stripCustomSections({ remove: ["producers"] }),
      ]],
    ] as const
  ) {
    const r = await cli(["opt", APP, "-o", `${dir}/out.wasm`, ...flags]);
    assert.equal(r.code, 0, r.stderr);
    const expected = (await runPipeline(input.slice(), [...passes])).bytes;
    assert.deepEqual(await Deno.readFile(`${dir}/out.wasm`), expected, flags.join(" "));
  }
  await Deno.remove(dir, { recursive: true });
});
