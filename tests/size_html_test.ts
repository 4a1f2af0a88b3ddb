/**
 * The treemap reports in headless Chromium (Debian's `chromium`): the page is loaded from disk
 * (file://, so any network or CDN reference would fail), driven over the DevTools protocol with
 * real mouse events, and screenshotted into the test's temp dir (and into docs/ when
 * `LINKPASS_SCREENSHOT` names a file).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { analyzeSize, diffReportHtml, sizeReportHtml, topItems } from "../size/mod.ts";
import { loadDemangler } from "../passes/_demangle.ts";
import { panic } from "../passes/panic.ts";
import { runPipeline } from "../pipeline.ts";
import { CHROMIUM, chromiumArgs, makeProfile } from "./_chromium.ts";
import { fixture, needs } from "./_tools.ts";

/** A page in headless Chromium, driven over the DevTools protocol. */
class Browser {
  #id = 0;
  #pending = new Map<number, (v: { result?: unknown; error?: unknown }) => void>();
  private constructor(
    readonly process: Deno.ChildProcess,
    readonly socket: WebSocket,
    readonly profile: string,
  ) {
    socket.onmessage = (e) => {
      const msg = JSON.parse(e.data);
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
    };
  }

  static async open(url: string, width = 1280, height = 800): Promise<Browser> {
    const profile = await makeProfile();
    const process = new Deno.Command(CHROMIUM!, {
      args: chromiumArgs(
        profile,
        `--window-size=${width},${height}`,
        "--remote-debugging-port=0",
        url,
      ),
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
    const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    let port = "";
    while (!port) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`chromium exited: ${text}`);
      text += value;
      port = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text)?.[1] ?? "";
    }
    reader.releaseLock();
    process.stderr.cancel().catch(() => {});
    let page: { webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 100 && !page; i++) {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      page = list.find((t: { type: string; url: string }) => t.type === "page" && t.url === url);
      if (!page) await new Promise((r) => setTimeout(r, 50));
    }
    const socket = new WebSocket(page!.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new Browser(process, socket, profile);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) =>
      this.#pending.set(id, (msg) => {
        this.#pending.delete(id);
        if (msg.error) reject(new Error(`${method}: ${JSON.stringify(msg.error)}`));
        else resolve(msg.result as Record<string, unknown>);
      })
    );
  }

  /** Evaluates an expression in the page and returns its value. */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
    return (r.result as { value: T }).value;
  }

  /** Waits until `expression` is truthy in the page. */
  async until(expression: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const test = `(() => { try { return !!(${expression}); } catch { return false; } })()`;
      if (await this.eval<boolean>(test)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${expression}`);
  }

  /** A real left click (mouse pressed and released) at page coordinates. */
  async click(x: number, y: number): Promise<void> {
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", { type, x, y, button: "left", clickCount: 1 });
    }
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    await Deno.writeFile(path, Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0)));
  }

  async close(): Promise<void> {
    this.socket.close();
    try {
      this.process.kill();
    } catch { /* already gone */ }
    await this.process.status;
    await Deno.remove(this.profile, { recursive: true }).catch(() => {});
  }
}

/** The center of the element matching `selector`, once the element there is that element. */
async function clickable(b: Browser, selector: string): Promise<{ x: number; y: number }> {
  for (let i = 0; i < 100; i++) {
    const at = await b.eval<{ x: number; y: number; hit: boolean }>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      const r = el.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      return { x, y, hit: document.elementFromPoint(x, y) === el };
    })()`);
    if (at.hit) return at;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${selector} never became clickable`);
}

Deno.test({
  name: "inspect --html: the treemap lists the largest items, and a click shows the why path",
  ...needs(CHROMIUM),
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_treemap_" });
    const bytes = await Deno.readFile(fixture("panic/hooked_z.wasm"));
    const a = analyzeSize(bytes, { file: "hooked_z.wasm", demangle: await loadDemangler() });
    const file = join(dir, "report.html");
    const html = sizeReportHtml(a);
    assert.ok(!/\b(src|href)=["']?(https?:)?\/\//.test(html), "no network references");
    await Deno.writeTextFile(file, html);
    const b = await Browser.open(`file://${file}`);
    try {
      await b.until(`document.body.dataset.ready === "1"`);
      // The side list shows the largest items, in order.
      const listed = await b.eval<string[]>(
        `[...document.querySelectorAll("#list li")].slice(0, 8).map((li) => li.textContent)`,
      );
      const expected = topItems(a, { limit: 8 }).map((i) =>
        `${i.bytes.toLocaleString("en-US")} ${i.name}`
      );
      assert.deepEqual(listed, expected);
      // The largest function has a cell; clicking it shows its path from an export.
      const [big] = topItems(a, { limit: 1, kinds: ["function"] });
      const selector = `.cell[data-id="${big.id}"]`;
      assert.ok(await b.eval<boolean>(`!!document.querySelector(${JSON.stringify(selector)})`));
      // The layout is redrawn on resize: click where the cell is now (checked by hit-testing).
      const { x, y } = await clickable(b, selector);
      await b.click(x, y);
      await b.until(`document.querySelector("#why-path")`);
      const steps = await b.eval<string[]>(
        `[...document.querySelectorAll("#why-path li")].map((li) => li.textContent)`,
      );
      assert.equal(steps.length, a.paths.depth[big.id]);
      assert.match(steps[0], /^export "/);
      assert.ok(steps[steps.length - 1].endsWith(big.name), steps.join(" | "));
      const isSelected = `document.querySelector(${
        JSON.stringify(selector)
      }).classList.contains("selected")`;
      assert.ok(await b.eval<boolean>(isSelected));
      // A redraw (resize, zoom) rebuilds every cell and keeps the selection.
      await b.eval(`dispatchEvent(new Event("resize"))`);
      assert.ok(await b.eval<boolean>(isSelected), "the selection survives a redraw");
      // Search narrows the list to the matches.
      await b.eval(`(() => { const s = document.getElementById("search"); s.value = "/panicking/";
        s.dispatchEvent(new Event("input")); })()`);
      const hits = await b.eval<string[]>(
        `[...document.querySelectorAll("#list li")].map((li) => li.textContent)`,
      );
      assert.ok(hits.length > 0 && hits.every((h) => h.includes("panicking")), hits.join(" | "));
      await b.eval(`(() => { const s = document.getElementById("search"); s.value = "";
        s.dispatchEvent(new Event("input")); })()`);
      // A click on a group's label zooms into it; "↑ whole module" goes back.
      const core = `[...document.querySelectorAll("#map > .group > .group > .label")]
        .find((l) => l.textContent.startsWith("core "))`;
      const label = await b.eval<{ x: number; y: number }>(`(() => {
        const r = ${core}.getBoundingClientRect();
        return { x: r.left + 8, y: r.top + r.height / 2 };
      })()`);
      const before = await b.eval<number>(`document.querySelectorAll(".cell[data-id]").length`);
      await b.click(label.x, label.y);
      await b.until(`document.getElementById("title").textContent.includes("› code › core")`);
      const zoomed = await b.eval<string[]>(
        `[...document.querySelectorAll(".cell[data-id]")].map((c) => c.title.split("\\n")[0])`,
      );
      assert.ok(
        zoomed.length > 0 && zoomed.every((n) => n.startsWith("core::") || n.startsWith("<")),
      );
      assert.ok(zoomed.length < before);
      await b.click(...Object.values(await clickable(b, "#up")) as [number, number]);
      await b.until(`document.getElementById("up").hidden`);
      const { x: x2, y: y2 } = await clickable(b, selector);
      await b.click(x2, y2);
      const png = join(dir, "treemap.png");
      await b.screenshot(png);
      const head = (await Deno.readFile(png)).subarray(0, 8);
      assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const copy = Deno.env.get("LINKPASS_SCREENSHOT");
      if (copy) await Deno.copyFile(png, copy);
    } finally {
      await b.close();
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "diff --html: removed items are red and the list leads with the largest change",
  ...needs(CHROMIUM),
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linkpass_treemap_" });
    const before = await Deno.readFile(fixture("panic/hooked_z.wasm"));
    const { bytes: after } = await runPipeline(before, [panic({ mode: "trap" })]);
    const demangle = await loadDemangler();
    const a = analyzeSize(before, { demangle });
    const b2 = analyzeSize(after, { demangle });
    const file = join(dir, "diff.html");
    await Deno.writeTextFile(file, diffReportHtml(a, b2));
    const b = await Browser.open(`file://${file}`);
    try {
      await b.until(`document.body.dataset.ready === "1"`);
      const first = await b.eval<string>(`document.querySelector("#list li").textContent`);
      assert.match(first, /^-[\d,]+ removed /);
      const removedColours = await b.eval<string[]>(
        `[...document.querySelectorAll(".cell[data-id]")]
        .filter((c) => c.title.endsWith(", removed")).map((c) => c.style.background)`,
      );
      assert.ok(removedColours.length > 0);
      assert.ok(removedColours.every((c) => c === "rgb(229, 115, 115)"), removedColours.join());
    } finally {
      await b.close();
    }
    await Deno.remove(dir, { recursive: true });
  },
});
