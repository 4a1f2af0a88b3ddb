/**
 * Passes on the linker's inputs, before the link: each Wasm object, and each Wasm member of the
 * archives (std's `.rlib`s included), goes through the section-level passes the configuration
 * asks for; the results are cleaned copies in the output's `.linkpass/` cache, never the
 * originals. Two sources:
 * - `"inputPasses"`: section passes by name, as `"passes"` takes them (`panic` in trap mode,
 *   `strip-custom-sections`);
 * - `"passes": { "panic": ... }` in trap mode: the object-level root rewrite is applied to the
 *   inputs too (unless `"inputPasses": { "panic": false }`), so the linker's `--gc-sections`
 *   drops the Location records, file names and messages only panics used. The post-link panic
 *   pass still runs on the linked module.
 * @module
 */
import { UsageError } from "../errors.ts";
import { findPass, passesFromConfig } from "../passes/mod.ts";
import type { Pass } from "../passes/types.ts";
import { runArchivePipeline } from "../archive_pipeline.ts";
import { runPipeline } from "../pipeline.ts";
import { readArchive } from "../wasm/archive.ts";
import type { LinkConfig } from "./config.ts";
import { sha256 } from "./cache.ts";

/** Bump when what the input passes write changes: cached copies of older versions are redone. */
const INPUT_PASSES_VERSION = 1;

/** Passes that make sense on one relocatable object at a time. */
const PER_OBJECT = ["panic", "strip-custom-sections"];

/** The input passes of a configuration, and a key naming their effect (for the cache). */
export interface InputPasses {
  /** The passes, in run order. */
  passes: Pass[];
  /** The effective configuration, by pass name. */
  config: Record<string, unknown>;
  /** Hash of the configuration and the version: part of each cached copy's key. */
  key: string;
}

/** True when the `panic` value of `"passes"` asks for trap mode (the default mode). */
function panicTrap(value: unknown): boolean {
  if (value === undefined || value === false || value === null) return false;
  if (value === true || value === "trap") return true;
  if (typeof value === "object" && !Array.isArray(value)) {
    const mode = (value as Record<string, unknown>).mode;
    return mode === undefined || mode === "trap";
  }
  return false;
}

/**
 * The passes to run on the inputs: `"inputPasses"`, plus `panic` in trap mode when `"passes"`
 * enables it (an explicit `"inputPasses": { "panic": ... }` wins). Throws a UsageError for a pass
 * that does not work on objects one by one.
 *
 * @example Link-time panic comes with `panic` in trap mode; hook mode stays after the link
 * ```ts
 * import assert from "node:assert";
 * import { inputPasses } from "./input_passes.ts";
 * const trap = await inputPasses({ passes: { panic: true } });
 * assert.deepStrictEqual(trap.passes.map((p) => p.name), ["panic"]);
 * const hook = await inputPasses({ passes: { panic: "hook" } });
 * assert.deepStrictEqual(hook.passes, []);
 * ```
 */
export async function inputPasses(config: LinkConfig): Promise<InputPasses> {
  const source = config.source ?? "the linkpass configuration";
  const own = config.inputPasses ?? {};
  const effective: Record<string, unknown> = {};
  const configured = config.passes?.panic;
  if (panicTrap(configured)) {
    // The unwind consent of the post-link pass covers the inputs too.
    const allow = typeof configured === "object" && configured !== null &&
      (configured as Record<string, unknown>).allowUnwindChange === true;
    effective.panic = allow ? { mode: "trap", allowUnwindChange: true } : "trap";
  }
  for (const [name, value] of Object.entries(own)) {
    if (findPass(name) && !PER_OBJECT.includes(name)) {
      throw new UsageError(
        `Pass "${name}" cannot run on the linker's inputs (in "inputPasses" of ${source}): ` +
          `inputs take ${PER_OBJECT.join(", ")}; put "${name}" under "passes" to run it on the ` +
          `linked module`,
      );
    }
    effective[name] = value;
  }
  const passes = passesFromConfig(effective, `"inputPasses" of ${source}`);
  const panic = passes.find((p) => p.name === "panic");
  if (panic && !panicTrap(effective.panic)) {
    throw new UsageError(
      `"inputPasses" of ${source}: panic runs on objects only in trap mode ("panic": "trap")`,
    );
  }
  const kept = Object.fromEntries(
    Object.entries(effective).filter(([, v]) => v !== false && v !== null && v !== undefined),
  );
  const key = (await sha256(`${INPUT_PASSES_VERSION}\0${JSON.stringify(kept)}`)).slice(0, 16);
  return { passes, config: kept, key };
}

/** What the passes did to one input file. */
export interface PreparedInput {
  /** The new bytes; undefined when every object came out unchanged. */
  bytes?: Uint8Array;
  /** Wasm objects that went through the passes, and how many changed. */
  objects: number;
  changed: number;
  /** Panic roots rewritten, and calls to them. */
  roots: number;
  callSites: number;
  /** Warnings of the passes (one per distinct text). */
  warnings: string[];
}

const equal = (a: Uint8Array, b: Uint8Array) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Runs the input passes over one object or archive (`bytes`, named `file` in messages). Archive
 * members that are not Wasm objects are kept as they are.
 */
export async function prepareInput(
  file: string,
  bytes: Uint8Array,
  passes: Pass[],
): Promise<PreparedInput> {
  const out: PreparedInput = {
    objects: 0,
    changed: 0,
    roots: 0,
    callSites: 0,
    warnings: [],
  };
  const warnings = new Set<string>();
  const count = (report: { passes: { name: string; report: Record<string, unknown> }[] }) => {
    for (const run of report.passes) {
      if (run.name === "panic") {
        out.roots += (run.report.roots as unknown[] | undefined)?.length ?? 0;
        out.callSites += (run.report.callSitesRewritten as number | undefined) ?? 0;
      }
      for (const w of (run.report.warnings as string[] | undefined) ?? []) {
        warnings.add(`${run.name}: ${w}`);
      }
    }
  };
  const isArchive = new TextDecoder().decode(bytes.subarray(0, 8)) === "!<arch>\n";
  if (isArchive) {
    const result = await runArchivePipeline(bytes, passes, { file, validate: false });
    const before = readArchive(bytes, file).members;
    const after = readArchive(result.bytes, file).members;
    result.members.forEach((m, i) => {
      if (!m.report) return;
      out.objects++;
      if (!equal(before[i].data, after[i].data)) out.changed++;
      count(m.report as never);
    });
    if (out.changed) out.bytes = result.bytes;
  } else {
    const result = await runPipeline(bytes, passes, { file, validate: false });
    out.objects = 1;
    count(result.report as never);
    if (!equal(result.bytes, bytes)) {
      out.changed = 1;
      out.bytes = result.bytes;
    }
  }
  out.warnings = [...warnings];
  return out;
}
