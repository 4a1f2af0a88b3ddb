import assert from "node:assert";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));

/** Every .ts file of the package (tests, benches, examples and fixtures excluded). */
async function sources(dir = root): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) {
      if (!["tests", "bench", "examples", "node_modules", ".git"].includes(e.name)) {
        out.push(...await sources(path));
      }
    } else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The `import`/`export ... from` and `import()` specifiers of a file's code (not its comments). */
function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)"([^"]+)"/gm)) {
    out.push(m[1]);
  }
  for (const m of code.matchAll(/const specifier = "([^"]+)"/g)) out.push(m[1]);
  return out;
}

Deno.test("source files import packages only through deps/, which pins every version", async () => {
  const files = await sources();
  assert.ok(files.length > 40, `found only ${files.length} source files`);
  const pinned = new Map<string, string>(); // package → version
  for (const file of files) {
    const rel = relative(root, file);
    for (const spec of specifiers(await Deno.readTextFile(file))) {
      if (spec.startsWith(".") || spec.startsWith("node:")) continue;
      assert.ok(rel.startsWith("deps/"), `${rel} imports "${spec}": import it from deps/ instead`);
      const m = /^npm:((?:@[^/]+\/)?[^@/]+)@(\d+\.\d+\.\d+)$/.exec(spec);
      assert.ok(m, `${rel}: "${spec}" is not a full npm:name@x.y.z specifier`);
      const had = pinned.get(m[1]);
      assert.ok(!had || had === m[2], `${m[1]} is pinned to both ${had} and ${m[2]}`);
      pinned.set(m[1], m[2]);
    }
  }
  for (const name of ["binaryen", "wabt", "acorn", "@commander-js/extra-typings"]) {
    assert.ok(pinned.has(name), `deps/ does not pin ${name}`);
  }
  // deno.json's import map (for tests and benches) names the same versions.
  for (const [name, target] of Object.entries(config.imports as Record<string, string>)) {
    const m = /^npm:((?:@[^/]+\/)?[^@/]+)@(\d+\.\d+\.\d+)$/.exec(target);
    if (!m || !pinned.has(m[1])) continue;
    assert.strictEqual(m[2], pinned.get(m[1]), `deno.json maps "${name}" to another version`);
  }
});
