/**
 * Snippets reach the glue verbatim (parenthesized after acorn checked they are one expression),
 * so tricky expressions keep their meaning: a corpus of them is evaluated through the glue and
 * directly, and the results must agree. String and template literals come out escaped for
 * `</script>` and U+2028/U+2029; import objects have no prototype.
 */
import assert from "node:assert/strict";
import { renderGlue } from "../glue/generate.ts";
import { prepareSnippet } from "../glue/snippets.ts";
import { GlueError } from "../errors.ts";
import { thrown } from "./_tools.ts";

/** Expressions whose meaning a reprinter has changed, or which need care when spliced. */
const CORPUS: string[] = [
  // optional chains under `new`, and parenthesized chains
  "(() => { const a = { b: class { constructor() { this.v = 7; } } }; return new (a?.b)().v; })()",
  "(() => { const a = null; try { return (a?.b).c; } catch (e) { return e.name; } })()",
  "(() => { const a = null; return a?.b.c; })()",
  "(() => { const a = { b: { c: 3 } }; return (a?.b).c; })()",
  // assignment patterns
  "(() => { const f = () => ({} = { a: 1 }); return JSON.stringify(f()); })()",
  "(() => { let x, y; [x, y = 2] = [1]; ({ x = 5 } = {}); return [x, y].join(); })()",
  // sequence expressions, top level and nested
  "1, 2, 3",
  "((a, b) => (a, b))(4, 5)",
  // regexes, with slashes in classes and what looks like a closing tag
  "/a\\/b[/]c/.source",
  "/<\\/script>/i.test('</SCRIPT>')",
  "'x'.replace(/x/g, '</script>')",
  "[1, 2].map((x) => x / 2 / 1).join()",
  // templates, tagged and untagged
  "`a${1 + 1}b</script>c${'d'}`",
  "String.raw`\\u{41}\\n`.length",
  "((s, ...v) => s.raw.join('|') + v.join())`x${1}y${2}`",
  "`line\u2028sep\u2029end`.length",
  // strings with what a <script> element or an old parser would trip on
  "'</script><script>1</script>'",
  '"\u2028\u2029".length',
  "'\\u003c/script>'.length",
  // objects, functions, classes, directives, comments
  "{ a: 1, '</script>': 2, ['__proto__']: 3 }",
  "(function () { 'use strict'; return this === undefined; })()",
  "(class { static x = 1; static #y = 2; static get y() { return this.#y; } }).y",
  "1 /* </script> */ + 1",
  "// a comment\n6",
  "(() => 1)() <\n/script>/.source.length",
  "async () => 9",
  "typeof import.meta",
];

/** A value as a comparable string (functions are called, promises awaited). */
async function settle(value: unknown): Promise<string> {
  if (typeof value === "function") value = value();
  if (value instanceof Promise) value = await value;
  if (value === undefined) return "undefined";
  return `${typeof value}:${JSON.stringify(value)}`;
}

/** The glue for `env`/`x<i>` = each corpus entry; returns its import object. */
async function throughGlue(corpus: string[]) {
  const jsImport = new Map([["env", new Map(corpus.map((text, i) => [`x${i}`, text]))]]);
  const { js } = renderGlue({
    mainMemory: { module: "js_bindgen", name: "memory" },
    jsImport,
    jsEmbed: new Map(),
  });
  const glue = await import(`data:text/javascript,${encodeURIComponent(js)}`);
  const empty = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  return { js, imports: new glue.JsBindgen(empty).importObject };
}

Deno.test("glue: a corpus of tricky snippets means the same through the glue as evaluated directly", async () => {
  const { js, imports } = await throughGlue(CORPUS);
  for (const [i, text] of CORPUS.entries()) {
    // Directly: the snippet as the body of a module-level expression.
    const direct = (await import(
      `data:text/javascript,${encodeURIComponent(`export default (\n${text}\n);`)}`
    )).default;
    assert.equal(await settle(imports.env[`x${i}`]), await settle(direct), text);
  }
  assert.ok(!/<\/script/i.test(js), "no </script in the glue");
  assert.ok(!/[\u2028\u2029]/.test(js.replace(/`line\u2028sep\u2029end`/, "")));
});

Deno.test("glue: import objects have no prototype, whatever the module names", async () => {
  const names = ["__proto__", "constructor", "toString", "hasOwnProperty"];
  const jsImport = new Map(names.map((m) => [m, new Map([["f", "2"]])]));
  const { js } = renderGlue(
    { mainMemory: { module: "__proto__", name: "memory" }, jsImport, jsEmbed: new Map() },
    { min: 1n, shared: false, is64: false },
  );
  const glue = await import(`data:text/javascript,${encodeURIComponent(js)}`);
  const empty = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const instance = new glue.JsBindgen(empty);
  const imports = instance.importObject;
  assert.equal(Object.getPrototypeOf(imports), null);
  assert.deepEqual(Object.keys(imports).sort(), [...names].sort());
  for (const m of names) assert.equal(Object.getPrototypeOf(imports[m]), null);
  assert.ok(imports.__proto__.memory instanceof WebAssembly.Memory, "the memory is an own entry");
  assert.equal(({} as Record<string, unknown>).memory, undefined, "Object.prototype untouched");
  instance.extendImportObject({ constructor: { g: 3 } });
  assert.equal(imports.constructor.g, 3);
  assert.throws(
    () => instance.extendImportObject({ toString: { f: 0 } }),
    /conflicting symbol: `toString:f`/,
  );
});

Deno.test("glue: snippets that are not exactly one expression, or cannot be escaped, are errors", () => {
  for (
    const text of [
      "1); globalThis.pwned = 1; (2",
      "a\n)\n;(b",
      "1 // )",
      "x => { return 1 }\n}",
      "((s) => s.raw[0])`</script>`",
    ]
  ) {
    const prepared = prepareSnippet(text);
    if ("source" in prepared) {
      // A comment that swallows the closing parenthesis must not: the newline ends it.
      assert.equal(text, "1 // )");
      assert.equal(prepared.source, "(\n1 // )\n)");
      continue;
    }
    assert.ok(prepared.error.reason, text);
  }
  const e = thrown(() =>
    renderGlue({
      mainMemory: { module: "js_bindgen", name: "memory" },
      jsImport: new Map([["m", new Map([["bad", "1 +"], ["ok", "1"]])]]),
      jsEmbed: new Map([["e", new Map([["worse", "}"]])]]),
    })
  );
  assert.ok(e instanceof GlueError);
  assert.match(e.message, /embed "e"\/"worse"/);
  assert.match(e.message, /import "m"\/"bad"/);
});
