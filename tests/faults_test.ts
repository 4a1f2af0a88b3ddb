/**
 * Every command against a table of file-system faults: each ends in one `error:` line naming the
 * file, the right exit code, no stack trace, and no stray output or temporary files.
 */
import assert from "node:assert/strict";
import { describeError, PassError } from "../errors.ts";
import { runPipeline } from "../pipeline.ts";
import { stripCustomSections } from "../passes/strip_custom_sections.ts";
import { runCli } from "./_cli.ts";
import { fixture } from "./_tools.ts";

const APP = new URL("../examples/demo/app.wasm", import.meta.url).pathname;
const WAT = fixture("asm/indirect.wat");

/** Runs the CLI (no terminal) with `-A` unless `perms` says otherwise. */
const cli = (args: string[], perms: string[] = ["-A"], cwd?: string) =>
  runCli(args, { perms, cwd, stdin: "null" });

/** Every file under `dir`, relative, sorted. */
function tree(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = `${prefix}${e.name}`;
    out.push(rel);
    if (e.isDirectory && !e.isSymlink) out.push(...tree(`${dir}/${e.name}`, `${rel}/`));
  }
  return out.sort();
}

/** Asserts one `error:` line matching `pattern`, exit `code`, no stack trace. */
function assertOneLine(
  r: { code: number; stdout: string; stderr: string },
  code: number,
  pattern: RegExp,
  what: string,
) {
  assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `${what}: one line, got\n${r.stderr}`);
  assert.match(lines[0], /^error: /, what);
  assert.match(lines[0], pattern, what);
  assert.doesNotMatch(r.stderr, /Uncaught|^\s+at /m, `${what}: no stack trace`);
}

/** Mounts a tmpfs (root only); undefined when this machine does not allow it. */
async function tmpfs(options: string): Promise<string | undefined> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "linkpass_tmpfs_" });
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", options, "tmpfs", dir],
    stderr: "null",
  }).output().catch(() => undefined);
  if (!r?.success) {
    await Deno.remove(dir);
    return undefined;
  }
  return dir;
}

async function unmount(dir: string) {
  await new Deno.Command("umount", { args: [dir] }).output();
  await Deno.remove(dir);
}

Deno.test("every command turns a bad input path into one line naming it", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/folder.wasm`);
  await Deno.symlink(`${dir}/loop.wasm`, `${dir}/loop.wasm`);
  const fifo = Deno.build.os === "linux"
    ? (await new Deno.Command("mkfifo", { args: [`${dir}/pipe.wasm`] }).output()).success
    : false;
  const before = tree(dir);
  const inputs: [string, string, RegExp][] = [
    ["missing", `${dir}/nope.wasm`, /"[^"]*nope\.wasm": no such file; check the path/],
    ["a folder", `${dir}/folder.wasm`, /"[^"]*folder\.wasm": it is a directory; pass a file/],
    ["a symlink loop", `${dir}/loop.wasm`, /"[^"]*loop\.wasm": symbolic links loop/],
  ];
  if (fifo) inputs.push(["a FIFO", `${dir}/pipe.wasm`, /"[^"]*pipe\.wasm": not a regular file/]);
  if (Deno.build.os !== "windows") {
    inputs.push(["/dev/zero", "/dev/zero", /"\/dev\/zero": not a regular file/]);
  }
  for (const [what, input, pattern] of inputs) {
    const commands: [string, string[]][] = [
      ["opt", ["opt", input, "-o", `${dir}/out.wasm`, "--strip-custom-sections"]],
      ["inspect", ["inspect", input]],
      ["asm", ["asm", input, "-o", `${dir}/out.o`]],
      ["run", ["run", input]],
      ["glue", ["glue", input]],
      ["inspect --top", ["inspect", input, "--top"]],
      ["why", ["why", input, "main"]],
      ["diff", ["diff", APP, input]],
    ];
    for (const [name, args] of commands) {
      assertOneLine(await cli(args), 1, pattern, `${name} with ${what} input`);
    }
  }
  assert.deepEqual(tree(dir), before, "no output, no temporary file");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("opt and asm refuse an output that is a folder or read-only, before writing anything", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/out.wasm`);
  await Deno.writeFile(`${dir}/ro.wasm`, new Uint8Array([1]), { mode: 0o444 });
  await Deno.chmod(`${dir}/ro.wasm`, 0o444);
  await Deno.mkdir(`${dir}/glue/app.js`, { recursive: true });
  const before = tree(dir);
  const cases: [string, string[], RegExp][] = [
    [
      "-o names a folder",
      ["opt", APP, "-o", `${dir}/out.wasm`, "--strip-custom-sections"],
      /Cannot write "[^"]*out\.wasm": it is a directory; name a file/,
    ],
    [
      "asm -o names a folder",
      ["asm", WAT, "-o", `${dir}/out.wasm`],
      /Cannot write "[^"]*out\.wasm": it is a directory/,
    ],
    [
      "read-only output",
      ["opt", APP, "-o", `${dir}/ro.wasm`, "--strip-custom-sections"],
      /Cannot replace "[^"]*ro\.wasm": it is read-only; .*--force/,
    ],
    [
      "--in-place on a read-only file",
      ["opt", `${dir}/ro.wasm`, "--in-place", "--strip-custom-sections"],
      /Cannot replace "[^"]*ro\.wasm": it is read-only/,
    ],
    [
      "the glue's name is a folder",
      ["opt", APP, "-o", `${dir}/glue/app.wasm`, "--js-glue"],
      /Cannot write "[^"]*glue\/app\.js": it is a directory/,
    ],
  ];
  for (const [what, args, pattern] of cases) assertOneLine(await cli(args), 1, pattern, what);
  assert.deepEqual(tree(dir), before, "nothing written, no temporary file");
  assert.equal((await Deno.stat(`${dir}/ro.wasm`)).mode! & 0o777, 0o444);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("opt creates missing output folders, keeps modes, and --force replaces a read-only file", async () => {
  const dir = await Deno.makeTempDir();
  const r = await cli(["opt", APP, "-o", `${dir}/a/b/app.wasm`, "--js-glue"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /note: created the folder "[^"]*\/a"/);
  assert.deepEqual(tree(dir), ["a", "a/b", "a/b/app.d.ts", "a/b/app.js", "a/b/app.wasm"]);
  await Deno.copyFile(APP, `${dir}/tool.wasm`);
  await Deno.chmod(`${dir}/tool.wasm`, 0o755);
  const inPlace = await cli(["opt", `${dir}/tool.wasm`, "--in-place", "--strip-custom-sections"]);
  assert.equal(inPlace.code, 0, inPlace.stderr);
  assert.equal((await Deno.stat(`${dir}/tool.wasm`)).mode! & 0o777, 0o755);
  await Deno.chmod(`${dir}/tool.wasm`, 0o444);
  const forced = await cli(["opt", APP, "-o", `${dir}/tool.wasm`, "--force", "--panic", "trap"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal((await Deno.stat(`${dir}/tool.wasm`)).mode! & 0o777, 0o444);
  assert.ok((await Deno.stat(`${dir}/tool.wasm`)).size < (await Deno.stat(APP)).size / 2);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a full disk and a read-only file system give one line and leave nothing", async (t) => {
  const full = await tmpfs("size=64k");
  const readOnly = await tmpfs("ro,size=64k");
  await t.step({
    name: "full disk (a 64 KiB tmpfs)",
    ignore: full === undefined,
    async fn() {
      const r = await cli([
        "opt",
        APP,
        "-o",
        `${full}/app.wasm`,
        "--strip-custom-sections",
        "producers",
      ]);
      assertOneLine(r, 1, /Cannot write "[^"]*app\.wasm": the disk is full/, "full disk");
      assert.deepEqual(tree(full!), []);
    },
  });
  await t.step({
    name: "read-only file system",
    ignore: readOnly === undefined,
    async fn() {
      const r = await cli(["opt", APP, "-o", `${readOnly}/app.wasm`, "--strip-custom-sections"]);
      assertOneLine(r, 1, /Cannot write "[^"]*app\.wasm": the file system is read-only/, "ro fs");
    },
  });
  if (full) await unmount(full);
  if (readOnly) await unmount(readOnly);
});

Deno.test("with no permissions every command says which one to grant, in one line", async () => {
  const dir = await Deno.makeTempDir();
  const cases: [string, string[], RegExp][] = [
    ["opt", ["opt", APP, "-o", `${dir}/o.wasm`, "--strip-custom-sections"], /--allow-read=/],
    ["inspect", ["inspect", APP], /Deno denied read access; run with --allow-read=/],
    ["asm", ["asm", WAT, "-o", `${dir}/o.o`], /--allow-read=/],
    ["run", ["run", APP], /--allow-read=/],
    ["check", ["check", fixture("glue/app.o")], /--allow-read=/],
    ["link", ["link", fixture("glue/app.o"), "-o", `${dir}/o.wasm`], /Deno denied \w+ access/],
  ];
  for (const [what, args, pattern] of cases) {
    assertOneLine(await cli(args, []), 1, pattern, `${what} without permissions`);
  }
  const passes = await cli(["passes"], []);
  assert.equal(passes.code, 0, passes.stderr);
  assert.deepEqual(tree(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("no arguments print the help on stderr and exit 2", async () => {
  const r = await cli([]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^Usage: linkpass/);
});

Deno.test("stripping mutated objects ends in output or one typed error, never a bug", async () => {
  const sources = [
    fixture("rust_objects/lib.o"),
    fixture("c_objects/main.o"),
    fixture("glue/app.o"),
  ];
  let seed = 0x5eed;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
  let failures = 0;
  for (const path of sources) {
    const original = await Deno.readFile(path);
    for (let i = 0; i < 300; i++) {
      const bytes = original.slice();
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      try {
        await runPipeline(bytes, [stripCustomSections({ remove: ["debug"] })]);
      } catch (e) {
        failures++;
        const described = describeError(e);
        assert.ok(described, `${path} mutant ${i}: not a typed error: ${e}`);
        assert.ok(!(e instanceof PassError && e.internal), `${path} mutant ${i}: ${e}`);
      }
    }
  }
  assert.ok(failures > 0, "some mutants must be rejected");
});
