/**
 * Runs variants of a real npm package's module (automerge, pinned) in the runtimes users run:
 * Deno, Node (Debian's `nodejs`, v20) and headless Chromium. Each variant goes through the
 * package's own wasm-bindgen glue and one scenario of its API (documents edited, saved, loaded,
 * merged; errors); the answers come back as JSON, so tests compare them across variants.
 * @module
 */
import { join } from "node:path";
import { CHROMIUM, dumpDom } from "./_chromium.ts";
import { run, tool } from "./_tools.ts";

/** The pinned package and its module. */
export const AUTOMERGE = "@automerge/automerge@3.5.0";
const GLUE = "node_modules/@automerge/automerge/dist/mjs/wasm_bindgen_output/web";

export const npm = tool("npm");
export const node = tool("node") ?? tool("nodejs");
export const chromium = CHROMIUM;

/** A temporary install of the package, with the glue, the scenario and runners in `dir`. */
export interface Bench {
  dir: string;
  /** The package's module. */
  input: Uint8Array;
  remove(): Promise<void>;
}

/**
 * The scenario: the low-level automerge API through wasm-bindgen's glue. A panic (unwrap on a
 * bad object id) is reported only as "threw", since the panic pass changes its message.
 */
const SCENARIO = `export function scenario(glue) {
  const out = { errors: [] };
  const doc = glue.create({ actor: "aabbccdd" });
  doc.put("/", "title", "hello");
  const list = doc.putObject("/", "items", []);
  for (let i = 0; i < 50; i++) doc.insert(list, i, i % 3 ? i : "s" + i);
  const text = doc.putObject("/", "text", "");
  doc.splice(text, 0, 0, "héllo wörld, ünïcode ✓");
  doc.commit("first", 0);
  const saved = doc.save();
  const doc2 = glue.load(saved, { actor: "eeff0011" });
  doc2.put("/", "n", 42);
  doc2.splice(text, 5, 1, "!");
  doc2.delete(list, 3);
  doc2.commit("second", 1);
  doc.merge(doc2);
  out.doc = doc.materialize("/");
  out.saved = Array.from(doc.save().slice(0, 8));
  out.heads = doc.getHeads().length;
  out.text = doc.text(text);
  out.changes = doc.getChanges([]).length;
  for (const bad of [() => glue.load(new Uint8Array([1, 2, 3])), () => doc.insert(list, 999, 1)]) {
    try { bad(); out.errors.push("none"); } catch (e) { out.errors.push(String(e && e.message || e)); }
  }
  try { doc.put("1@nosuch", "x", 1); out.panics = "no"; } catch { out.panics = "threw"; }
  return out;
}
`;

const RUNNER = `const path = typeof Deno !== "undefined" ? Deno.args[0] : process.argv[2];
const bytes = typeof Deno !== "undefined"
  ? Deno.readFileSync(path)
  : (await import("node:fs")).readFileSync(path);
const glue = await import("./glue.js");
const { scenario } = await import("./scenario.mjs");
glue.initSync({ module: bytes });
console.log(JSON.stringify(scenario(glue)));
`;

const PAGE = (variants: string[]) =>
  `<!doctype html>
<meta charset="utf-8">
<pre id="out"></pre>
<script type="module">
  const { scenario } = await import("./scenario.mjs");
  const results = {};
  for (const name of ${JSON.stringify(variants)}) {
    try {
      const glue = await import("./glue.js?variant=" + name);
      const bytes = new Uint8Array(await (await fetch("./" + name + ".wasm")).arrayBuffer());
      glue.initSync({ module: bytes });
      results[name] = JSON.stringify(scenario(glue));
    } catch (e) {
      results[name] = "error " + e;
    }
  }
  const out = document.getElementById("out");
  out.textContent = JSON.stringify(results);
  out.dataset.done = "1";
</script>
`;

/** Installs the package into a temporary directory and writes the glue and the scenario. */
export async function setUp(): Promise<Bench> {
  const dir = await Deno.makeTempDir({ prefix: "linkpass-runtimes-" });
  await run(npm!, ["install", "--silent", "--no-audit", "--no-fund", "--prefix", dir, AUTOMERGE]);
  await Deno.copyFile(join(dir, GLUE, "automerge_wasm.js"), join(dir, "glue.js"));
  await Deno.writeTextFile(join(dir, "scenario.mjs"), SCENARIO);
  await Deno.writeTextFile(join(dir, "run.mjs"), RUNNER);
  const input = await Deno.readFile(join(dir, GLUE, "automerge_wasm_bg.wasm"));
  return { dir, input, remove: () => Deno.remove(dir, { recursive: true }) };
}

/** The scenario's answers for a module in Deno (a fresh process, as the glue keeps state). */
export async function inDeno(bench: Bench, wasm: string): Promise<string> {
  return (await run(Deno.execPath(), ["run", "-A", join(bench.dir, "run.mjs"), wasm])).trim();
}

/** The same in Node. */
export async function inNode(bench: Bench, wasm: string): Promise<string> {
  return (await run(node!, [join(bench.dir, "run.mjs"), wasm])).trim();
}

/**
 * The answers for each variant (`<name>.wasm` in the bench directory) in headless Chromium: one
 * page imports a fresh copy of the glue per variant.
 */
export async function inChromium(
  bench: Bench,
  variants: string[],
): Promise<Record<string, string>> {
  await Deno.writeTextFile(join(bench.dir, "index.html"), PAGE(variants));
  const text = await dumpDom(bench.dir, { budgetMs: 60000 });
  return JSON.parse(
    text.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&"),
  );
}
