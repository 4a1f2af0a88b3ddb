import assert from "node:assert";
import { FileError } from "../errors.ts";
import { writeOutputs } from "../fs.ts";

const list = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

Deno.test("writeOutputs() writes nothing when one output cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/app.js`); // the glue's name is taken by a folder
  await assert.rejects(
    writeOutputs([
      { path: `${dir}/app.wasm`, contents: wasm },
      { path: `${dir}/app.js`, contents: "export {};\n" },
    ]),
    (e) => e instanceof FileError && /"[^"]*app\.js": it is a directory/.test(e.message),
  );
  assert.deepStrictEqual(list(dir), ["app.js"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeOutputs() creates missing folders, and removes them when the run fails", async () => {
  const dir = await Deno.makeTempDir();
  const ok = await writeOutputs([{ path: `${dir}/a/b/out.wasm`, contents: [wasm, wasm] }]);
  assert.deepStrictEqual(ok.createdFolders, [`${dir}/a`, `${dir}/a/b`]);
  assert.strictEqual((await Deno.readFile(`${dir}/a/b/out.wasm`)).length, 16);
  await Deno.mkdir(`${dir}/x/y/out.js`, { recursive: true });
  await assert.rejects(
    writeOutputs([
      { path: `${dir}/x/y/out.wasm`, contents: wasm },
      { path: `${dir}/x/y/out.js`, contents: "" },
      { path: `${dir}/new/out.d.ts`, contents: "" },
    ]),
    FileError,
  );
  assert.deepStrictEqual(list(dir), ["a", "x"]);
  assert.deepStrictEqual(list(`${dir}/x/y`), ["out.js"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeOutputs() keeps the mode of a replaced file and refuses a read-only one", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/tool.wasm`;
  await Deno.writeFile(path, new Uint8Array([1]));
  await Deno.chmod(path, 0o755);
  await writeOutputs([{ path, contents: wasm }]);
  assert.strictEqual((await Deno.stat(path)).mode! & 0o777, 0o755);
  await Deno.chmod(path, 0o444);
  await assert.rejects(
    writeOutputs([{ path, contents: new Uint8Array([2]) }]),
    (e) => e instanceof FileError && /it is read-only; .*--force/.test(e.message),
  );
  assert.deepStrictEqual(await Deno.readFile(path), wasm);
  await writeOutputs([{ path, contents: new Uint8Array([2]) }], { force: true });
  assert.deepStrictEqual(await Deno.readFile(path), new Uint8Array([2]));
  assert.strictEqual((await Deno.stat(path)).mode! & 0o777, 0o444);
  assert.deepStrictEqual(list(dir), ["tool.wasm"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("writeOutputs() removes temporary files a killed run left for the same output", async () => {
  const dir = await Deno.makeTempDir();
  // A process id that cannot be running (above Linux's pid_max), and one of another output.
  const stale = `.out.wasm.99999999-0badf00d.tmp`;
  const other = `.other.wasm.99999999-0badf00d.tmp`;
  await Deno.writeFile(`${dir}/${stale}`, new Uint8Array(1000));
  await Deno.writeFile(`${dir}/${other}`, new Uint8Array(10));
  const result = await writeOutputs([{ path: `${dir}/out.wasm`, contents: wasm }]);
  if (Deno.build.os === "linux") {
    assert.deepStrictEqual(result.staleRemoved, [`${dir}/${stale}`]);
    assert.deepStrictEqual(list(dir), [other, "out.wasm"]);
  }
  await Deno.remove(dir, { recursive: true });
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test({
    name: `writeOutputs() leaves no temporary file when ${signal} stops the write`,
    ignore: Deno.build.os === "windows",
    async fn() {
      const dir = await Deno.makeTempDir();
      const script = `${dir}/writer.ts`;
      // The contents are produced while the file is written; the first chunk says so on stdout.
      await Deno.writeTextFile(
        script,
        `import { writeOutputs } from ${JSON.stringify(new URL("../fs.ts", import.meta.url).href)};
const chunk = new Uint8Array(4096);
function* chunks() {
  console.log("writing");
  for (let i = 0; i < 100_000; i++) yield chunk;
}
await writeOutputs([
  { path: Deno.args[0] + "/out.js", contents: "export {};" },
  { path: Deno.args[0] + "/out.wasm", contents: chunks() as unknown as Uint8Array[] },
]);
console.log("finished");
`,
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, `${dir}/out`],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!seen.includes("writing")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      child.kill(signal);
      while (!(await reader.read()).done) { /* drain */ }
      const status = await child.status;
      assert.strictEqual(status.code, signal === "SIGINT" ? 130 : 143);
      assert.ok(!seen.includes("finished"));
      // The folder the run created goes too only if it is empty; the temporary files never stay.
      const left = list(`${dir}/out`);
      assert.deepStrictEqual(left.filter((n) => n.endsWith(".tmp") || n.startsWith("out.")), []);
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test("writeOutputs() writes in place with write permission only, and undoes a failure", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/out`);
  await Deno.mkdir(`${dir}/out/app.js`);
  const script = `${dir}/writer.ts`;
  await Deno.writeTextFile(
    script,
    `import { writeOutputs } from ${JSON.stringify(new URL("../fs.ts", import.meta.url).href)};
const [dir, glue] = Deno.args;
try {
  const r = await writeOutputs([
    { path: dir + "/app.wasm", contents: "wasm" },
    { path: dir + "/" + glue, contents: "glue" },
  ]);
  console.log(JSON.stringify(r));
} catch (e) {
  console.log(e.name + ": " + e.message);
}
`,
  );
  const fsTs = new URL("../fs.ts", import.meta.url).pathname;
  const errorsTs = new URL("../errors.ts", import.meta.url).pathname;
  const run = async (glue: string) =>
    new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-read=${script},${fsTs},${errorsTs}`,
          `--allow-write=${dir}/out`,
          script,
          `${dir}/out`,
          glue,
        ],
        stdout: "piped",
      }).output()).stdout,
    ).trim();
  assert.match(await run("app.js"), /^FileError: Cannot write ".*app\.js": it is a directory/);
  assert.deepStrictEqual(list(`${dir}/out`), ["app.js"]);
  assert.deepStrictEqual(JSON.parse(await run("app.mjs")), {
    atomic: false,
    createdFolders: [],
    staleRemoved: [],
  });
  assert.deepStrictEqual(list(`${dir}/out`), ["app.js", "app.mjs", "app.wasm"]);
  await Deno.remove(dir, { recursive: true });
});
