/**
 * Generating the JS glue of a linked module from its `js_bindgen.import`/`js_bindgen.embed`
 * records: select the snippets the final imports need (and their embeds, transitively), parse
 * each with acorn, and print one ES module from an ESTree (astring). Nothing from the module is
 * spliced into text: names become string literals, snippets become parsed expressions.
 * @module
 */
import { parse } from "../deps/acorn.ts";
import { generate } from "../deps/astring.ts";
import { GlueError, type GlueProblem } from "../errors.ts";

export { GlueError, type GlueProblem };
import type { WasmModule } from "../wasm/module.ts";
import { type Import, readImports } from "../wasm/types.ts";
import { type JsName, type JsRecord, readJsRecords } from "./records.ts";
import { parseSnippet } from "./snippets.ts";
import { GLUE_DTS, GLUE_TEMPLATE } from "./template.ts";

/** Options of {@linkcode generateGlue}. */
export interface GlueOptions {
  /**
   * The main memory's import. Default: `js_bindgen`/`memory` when the module imports it, else the
   * module's only memory import. The glue creates it from the import's limits.
   */
  memory?: JsName;
  /** File name the glue loads by default, relative to itself (default `"module.wasm"`). */
  wasmFile?: string;
}

/** What {@linkcode generateGlue} did. */
export interface GlueReport {
  /** Imports that got a snippet, as `module/name`, sorted. */
  imports: string[];
  /** Embeds included, as `module/name`, sorted. */
  embeds: string[];
  /** Function/global/table/tag imports with no snippet: the user must provide them. */
  missing: string[];
  /** Snippets dropped as dead: `import module/name` (not imported) or `embed module/name`. */
  dropped: string[];
  /** The main memory the glue creates, when the module imports one. */
  memory?: JsName & { initial: string; maximum?: string; shared: boolean; is64: boolean };
}

/** The generated glue. */
export interface Glue {
  /** The ES module. */
  js: string;
  /** Its TypeScript declarations. */
  dts: string;
  /** What went into the glue and what did not. */
  report: GlueReport;
}

const key = (n: JsName) => `${n.module}\0${n.name}`;
const label = (n: JsName) => `${JSON.stringify(n.module)}/${JSON.stringify(n.name)}`;
const byName = (a: JsName, b: JsName) =>
  a.module < b.module
    ? -1
    : a.module > b.module
    ? 1
    : a.name < b.name
    ? -1
    : a.name > b.name
    ? 1
    : 0;
const hex = (n: number) => n < 0 ? "a rebuilt section" : `offset 0x${n.toString(16)}`;

/** Merges duplicate records (same text: one; different text: a problem naming both). */
function collect(records: JsRecord[], kind: "import" | "embed", problems: GlueProblem[]) {
  const map = new Map<string, JsRecord>();
  for (const r of records) {
    if (r.kind !== kind) continue;
    const had = map.get(key(r));
    if (!had) {
      map.set(key(r), { ...r, embeds: [...r.embeds] });
      continue;
    }
    if (had.text !== r.text) {
      problems.push({
        message: `Conflicting JS for ${kind} ${label(r)}: the record at ${hex(had.offset)} says ${
          JSON.stringify(had.text)
        }, the record at ${hex(r.offset)} says ${
          JSON.stringify(r.text)
        }; two crates (or two versions of one crate) define it differently: make them agree`,
      });
      continue;
    }
    for (const e of r.embeds) if (!had.embeds.some((h) => key(h) === key(e))) had.embeds.push(e);
  }
  return map;
}

/** Picks the main memory import. */
function mainMemory(imports: Import[], wanted?: JsName) {
  const memories = imports.filter((i) => i.kind === "memory");
  const find = (n?: JsName) =>
    n && memories.find((m) => m.module === n.module && m.name === n.name);
  return find(wanted) ?? find({ module: "js_bindgen", name: "memory" }) ??
    (memories.length === 1 ? memories[0] : undefined);
}

/**
 * Generates the glue of a linked module. Throws {@linkcode GlueError} when the records are
 * inconsistent or a snippet does not parse, and WasmParseError for malformed records.
 *
 * @example Glue for a module with one import snippet
 * ```ts
 * import assert from "node:assert";
 * import { generateGlue } from "./generate.ts";
 * import { encodeJsRecord } from "./records.ts";
 * import { WasmModule } from "../wasm/module.ts";
 * const module = WasmModule.empty();
 * module.addCustomSection("js_bindgen.import", encodeJsRecord({ module: "m", name: "f", text: "() => 1" }));
 * const { report } = generateGlue(module);
 * assert.ok(report.dropped[0] === "import m/f"); // the module does not import m/f
 * ```
 */
export function generateGlue(module: WasmModule, options: GlueOptions = {}): Glue {
  const records = readJsRecords(module);
  const imports = readImports(module);
  const problems: GlueProblem[] = [];
  const importSnippets = collect(records, "import", problems);
  const embedSnippets = collect(records, "embed", problems);
  const memory = mainMemory(imports, options.memory);

  // Imports present in the final module, and the embeds they reach.
  const used: JsRecord[] = [];
  const missing: string[] = [];
  const seenImports = new Set<string>();
  for (const imp of [...imports].sort(byName)) {
    if (imp === memory || seenImports.has(key(imp))) continue;
    seenImports.add(key(imp));
    const snippet = importSnippets.get(key(imp));
    if (snippet) used.push(snippet);
    else missing.push(`${imp.module}/${imp.name}`);
  }
  const embeds: JsRecord[] = []; // dependencies first
  const state = new Map<string, "visiting" | "done">();
  const visit = (r: JsRecord) => {
    for (const e of [...r.embeds].sort(byName)) {
      const embed = embedSnippets.get(key(e));
      if (!embed) {
        problems.push({
          message: `Missing JS embed ${label(e)}, required by ${r.kind} ${
            label(r)
          }: no linked crate provides it; link the crate that defines it (or fix the name)`,
        });
        continue;
      }
      if (state.has(key(embed))) continue;
      state.set(key(embed), "visiting");
      visit(embed);
      state.set(key(embed), "done");
      embeds.push(embed);
    }
  };
  for (const r of used) visit(r);
  const dropped = [
    ...[...importSnippets.values()].filter((r) => !seenImports.has(key(r))).sort(byName).map((r) =>
      `import ${r.module}/${r.name}`
    ),
    ...[...embedSnippets.values()].filter((r) => !state.has(key(r))).sort(byName)
      .map((r) => `embed ${r.module}/${r.name}`),
  ];

  // Parse every snippet that ends up in the glue.
  const parsed = new Map<JsRecord, unknown>();
  for (const r of [...embeds, ...used]) {
    const result = parseSnippet(r.text);
    if ("error" in result) {
      const { line, column, reason, frame } = result.error;
      problems.push({
        message: `Invalid JS in ${r.kind} ${
          label(r)
        } at ${line}:${column} of the snippet (record at ${hex(r.offset)}): ${reason}`,
        frame,
      });
    } else parsed.set(r, safeLiterals(result.node));
  }
  if (problems.length) throw new GlueError(problems);

  const program = parse(GLUE_TEMPLATE, { ecmaVersion: "latest", sourceType: "module" });
  const memoryNode = memory?.kind === "memory"
    ? objectOf([
      ["module", literal(memory.module)],
      ["name", literal(memory.name)],
      ["descriptor", memoryDescriptor(memory.memory)],
    ])
    : literal(null);
  const replacements: Record<string, unknown> = {
    __LINKPASS_MEMORY__: memoryNode,
    __LINKPASS_WASM__: literal(options.wasmFile ?? "module.wasm"),
    __LINKPASS_IMPORTS__: importObject(used, parsed),
  };
  const embedStatements = embedAssignments(embeds, parsed);
  replacePlaceholders(program, replacements, embedStatements);
  const header =
    "// Generated by linkpass js-glue from the module's js_bindgen.* records. Do not edit.\n";
  const js = header + generate(program as never);
  const limits = memory?.kind === "memory" ? memory.memory : undefined;
  return {
    js,
    dts: GLUE_DTS,
    report: {
      imports: used.map((r) => `${r.module}/${r.name}`),
      embeds: [...embeds].sort(byName).map((r) => `${r.module}/${r.name}`),
      missing,
      dropped,
      ...(memory && limits
        ? {
          memory: {
            module: memory.module,
            name: memory.name,
            initial: String(limits.min),
            ...(limits.max !== undefined ? { maximum: String(limits.max) } : {}),
            shared: limits.shared,
            is64: limits.is64,
          },
        }
        : {}),
    },
  };
}

// ---- ESTree builders -------------------------------------------------------------------------

type N = Record<string, unknown>;

/**
 * A string literal whose source cannot end the string or a `<script>` element: JSON escaping,
 * plus `<` and the line separators as `\u` escapes.
 */
export function safeString(value: string): string {
  return JSON.stringify(value).replace(
    /[<\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function member2(object: string, property: string): N {
  return {
    type: "MemberExpression",
    object: { type: "Identifier", name: object },
    property: { type: "Identifier", name: property },
    computed: false,
    optional: false,
  };
}

function literal(value: string | number | boolean | null | bigint): N {
  if (typeof value === "string") return { type: "Literal", value, raw: safeString(value) };
  if (typeof value === "bigint") {
    return { type: "Literal", value, raw: `${value}n`, bigint: String(value) };
  }
  return { type: "Literal", value, raw: JSON.stringify(value) };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function propertyKey(name: string): N {
  return IDENTIFIER.test(name) ? { type: "Identifier", name } : literal(name);
}

/** An object literal; a `__proto__` key is computed, so it is an own property, not the prototype. */
function objectOf(entries: [string, unknown][]): N {
  return {
    type: "ObjectExpression",
    properties: entries.map(([k, v]) => ({
      type: "Property",
      key: k === "__proto__" ? literal(k) : propertyKey(k),
      value: v,
      kind: "init",
      method: false,
      shorthand: false,
      computed: k === "__proto__",
    })),
  };
}

function memoryDescriptor(limits: { min: bigint; max?: bigint; shared: boolean; is64: boolean }) {
  const num = (v: bigint) => limits.is64 ? literal(v) : literal(Number(v));
  const entries: [string, unknown][] = [];
  if (limits.is64) entries.push(["address", literal("i64")]);
  entries.push(["initial", num(limits.min)]);
  if (limits.max !== undefined) entries.push(["maximum", num(limits.max)]);
  if (limits.shared) entries.push(["shared", literal(true)]);
  return objectOf(entries);
}

/** `{ module: { name: <snippet>, ... }, ... }`, sorted by module then name. */
function importObject(used: JsRecord[], parsed: Map<JsRecord, unknown>): N {
  const modules = new Map<string, [string, unknown][]>();
  for (const r of used) {
    if (!modules.has(r.module)) modules.set(r.module, []);
    modules.get(r.module)!.push([r.name, parsed.get(r)]);
  }
  return objectOf([...modules].map(([m, entries]) => [m, objectOf(entries)]));
}

/**
 * `this.#jsEmbed[module] ??= Object.create(null); this.#jsEmbed[module][name] = <snippet>;` per
 * embed (prototype-less objects, so no name can reach `Object.prototype`).
 */
function embedAssignments(embeds: JsRecord[], parsed: Map<JsRecord, unknown>): N[] {
  const jsEmbed = () => ({
    type: "MemberExpression",
    object: { type: "ThisExpression" },
    property: { type: "PrivateIdentifier", name: "jsEmbed" },
    computed: false,
    optional: false,
  });
  const member = (object: unknown, name: string) => ({
    type: "MemberExpression",
    object,
    property: literal(name),
    computed: true,
    optional: false,
  });
  const out: N[] = [];
  const declared = new Set<string>();
  for (const r of embeds) {
    if (!declared.has(r.module)) {
      declared.add(r.module);
      out.push({
        type: "ExpressionStatement",
        expression: {
          type: "AssignmentExpression",
          operator: "??=",
          left: member(jsEmbed(), r.module),
          right: {
            type: "CallExpression",
            callee: member2("Object", "create"),
            arguments: [literal(null)],
            optional: false,
          },
        },
      });
    }
    out.push({
      type: "ExpressionStatement",
      expression: {
        type: "AssignmentExpression",
        operator: "=",
        left: member(member(jsEmbed(), r.module), r.name),
        right: parsed.get(r),
      },
    });
  }
  return out;
}

/** Re-escapes every string literal of a parsed snippet with {@linkcode safeString}. */
function safeLiterals<T>(node: T): T {
  walk(node, (n) => {
    if (n.type === "Literal" && typeof n.value === "string") n.raw = safeString(n.value);
  });
  return node;
}

function walk(node: unknown, fn: (n: N) => void): void {
  if (Array.isArray(node)) {
    for (const c of node) walk(c, fn);
    return;
  }
  if (!node || typeof node !== "object" || typeof (node as N).type !== "string") return;
  fn(node as N);
  for (const [k, v] of Object.entries(node as N)) {
    if (k !== "loc" && v && typeof v === "object") walk(v, fn);
  }
}

/** Swaps the template's placeholder identifiers (and the embeds statement) for real nodes. */
function replacePlaceholders(program: unknown, values: Record<string, unknown>, embeds: N[]) {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const n = node[i] as N;
        const expr = n?.type === "ExpressionStatement" ? n.expression as N : undefined;
        if (expr?.type === "Identifier" && expr.name === "__LINKPASS_EMBEDS__") {
          node.splice(i, 1, ...embeds);
          i += embeds.length - 1;
          continue;
        }
        visit(n);
      }
      return;
    }
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node as N)) {
      const n = v as N;
      if (n?.type === "Identifier" && typeof n.name === "string" && Object.hasOwn(values, n.name)) {
        (node as N)[k] = values[n.name];
      } else if (v && typeof v === "object") visit(v);
    }
  };
  visit(program);
}
