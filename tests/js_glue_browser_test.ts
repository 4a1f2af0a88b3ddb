/**
 * js-glue in a browser: headless Chromium (Debian's `chromium`) loads a page served on 127.0.0.1
 * that imports the generated glue, instantiates the Rust fixture with the default
 * `instantiateStreaming()` (the sibling .wasm, compiled while streaming) and runs `main`. The
 * page writes what the module printed into the DOM; `--dump-dom` returns it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { jsGlue } from "../passes/js_glue.ts";
import { runPipeline } from "../pipeline.ts";
import { CHROMIUM, dumpDom } from "./_chromium.ts";
import { fixture, needs } from "./_tools.ts";

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>linkpass glue</title>
<pre id="out"></pre>
<script type="module">
  const lines = [];
  const log = console.log;
  console.log = (...a) => { lines.push(a.join(" ")); log(...a); };
  const out = document.getElementById("out");
  try {
    const { JsBindgen } = await import("./app.js");
    const { exports } = await JsBindgen.instantiateStreaming();
    lines.push("exit " + exports.main(0, 0));
  } catch (e) {
    lines.push("error " + e);
  }
  out.textContent = lines.join("\\n");
  out.dataset.done = "1";
</script>
`;

Deno.test({
  name: "js-glue: the glue runs the Rust fixture in headless Chromium with the same output",
  ...needs(CHROMIUM),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_browser_" });
    const bytes = await Deno.readFile(fixture("glue/app.wasm"));
    const result = await runPipeline(bytes, [jsGlue({ name: "app.wasm" })]);
    await Deno.writeFile(join(dir, "app.wasm"), result.bytes);
    for (const [name, contents] of result.files) {
      await Deno.writeTextFile(join(dir, name), contents as string);
    }
    await Deno.writeTextFile(join(dir, "index.html"), PAGE);
    const requests: string[] = [];
    try {
      const out = await dumpDom(dir, {
        budgetMs: 10000,
        flags: ["--disable-quic"],
        onRequest: (path) => requests.push(path),
      });
      assert.deepEqual(out.split("\n"), [
        "hello from Rust",
        "JS array: [1.5,2,3.5]",
        "sum from JS: 7",
        "args:",
        "exit -1",
      ]);
      assert.deepEqual(requests.filter((r) => r !== "/favicon.ico"), [
        "/index.html",
        "/app.js",
        "/app.wasm",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
