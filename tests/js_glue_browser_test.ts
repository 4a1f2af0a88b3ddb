/**
 * js-glue in a browser: headless Chromium (Debian's `chromium`) loads a page served on 127.0.0.1
 * that imports the generated glue, instantiates the Rust fixture with the default
 * `instantiateStreaming()` (the sibling .wasm, compiled while streaming) and runs `main`. The
 * page writes what the module printed into the DOM; `--dump-dom` returns it.
 */
import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { jsGlue } from "../passes/js_glue.ts";
import { runPipeline } from "../pipeline.ts";
import { fixture, needs, tool } from "./_tools.ts";

const CHROMIUM = tool("chromium") ?? tool("/usr/bin/chromium");

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

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
};

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
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const path = new URL(req.url).pathname.replace(/^\/$/, "/index.html");
      requests.push(path);
      try {
        const body = await Deno.readFile(join(dir, path.slice(1).replace(/\.\.+/g, "")));
        return new Response(body, {
          headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    const profile = await Deno.makeTempDir({ prefix: "linkpass_chromium_" });
    try {
      const out = await new Deno.Command(CHROMIUM!, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          "--virtual-time-budget=10000",
          "--dump-dom",
          `http://127.0.0.1:${server.addr.port}/`,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dom = new TextDecoder().decode(out.stdout);
      const pre = /<pre id="out" data-done="1">([\s\S]*?)<\/pre>/.exec(dom);
      assert.ok(pre, `the page did not finish:\n${dom}\n${new TextDecoder().decode(out.stderr)}`);
      assert.deepEqual(pre[1].split("\n"), [
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
      await server.shutdown();
      await Deno.remove(profile, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
});
