/**
 * `linkpass check <inputs...>`: assemble every embedded WAT fragment and parse every JS snippet
 * in objects and archives, without linking, and report every problem at once (for editors and
 * CI, before the linker runs).
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { UsageError } from "../errors.ts";
import { decodeSection, EMBED_SECTION, IMPORT_SECTION } from "../glue/records.ts";
import { parseSnippet } from "../glue/snippets.ts";
import { checkFormatVersions } from "./guards.ts";
import { type ObjectInput, scanInput } from "./scan.ts";

/** One problem found by {@linkcode checkInputs}. */
export interface CheckProblem {
  /** One line: where and what. */
  message: string;
  /** Source lines around the problem, when known. */
  frame?: string;
}

/** What {@linkcode checkInputs} found. */
export interface CheckReport {
  /** Input files checked. */
  inputs: number;
  /** WAT fragments assembled. */
  fragments: number;
  /** JS snippets (import and embed records) parsed. */
  snippets: number;
  /** Every problem found, in input order. */
  problems: CheckProblem[];
}

function where(obj: ObjectInput): string {
  return obj.member ? `"${obj.file}(${obj.member})"` : `"${obj.file}"`;
}

/**
 * Checks inputs without linking. Reads each file once; reports every problem instead of stopping
 * at the first.
 *
 * @example Check an object before linking it
 * ```ts ignore
 * import { checkInputs } from "../mod.ts";
 * const report = await checkInputs(["target/wasm32-unknown-unknown/debug/deps/libapp.rlib"]);
 * for (const p of report.problems) console.error(p.message);
 * ```
 */
export async function checkInputs(
  paths: string[],
  /** `target`: of the fragments; by default wasm64 when the objects import a 64-bit memory. */
  options: { target?: "wasm32" | "wasm64" } = {},
): Promise<CheckReport> {
  const report: CheckReport = { inputs: paths.length, fragments: 0, snippets: 0, problems: [] };
  const fragments: { text: string; file: string; member?: string; record: number }[] = [];
  const versions: { crate: string; version: number; from: string }[] = [];
  let memory64 = false;
  for (const path of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        report.problems.push({ message: `Cannot read "${path}": no such file` });
        continue;
      }
      throw e;
    }
    let objects: ObjectInput[];
    try {
      const scanned = scanInput(path, bytes, { js: false });
      objects = scanned.objects;
      for (const f of scanned.scan.fragments) fragments.push({ ...f, file: path });
      if (scanned.scan.memory64) memory64 = true;
      for (const v of scanned.scan.versions) {
        versions.push({ ...v, from: v.member ? `${path}(${v.member})` : path });
      }
    } catch (e) {
      if (e instanceof WasmParseError) {
        report.problems.push({ message: `Cannot read "${e.file ?? path}": ${e.message}` });
        continue;
      }
      if (e instanceof UsageError) {
        report.problems.push({ message: e.message });
        continue;
      }
      throw e;
    }
    for (const obj of objects) {
      const module = WasmModule.parse(obj.bytes);
      for (const section of module.customSections()) {
        const kind = section.name === IMPORT_SECTION
          ? "import"
          : section.name === EMBED_SECTION
          ? "embed"
          : undefined;
        if (!kind) continue;
        let records;
        try {
          records = decodeSection(section, kind);
        } catch (e) {
          if (!(e instanceof WasmParseError)) throw e;
          report.problems.push({ message: `Cannot read ${where(obj)}: ${e.message}` });
          continue;
        }
        records.forEach((rec, i) => {
          report.snippets++;
          const parsed = parseSnippet(rec.text);
          if ("error" in parsed) {
            const { line, column, reason, frame } = parsed.error;
            report.problems.push({
              message: `Invalid JS in ${section.name} record ${i + 1} of ${
                where(obj)
              } ("${rec.module}"/"${rec.name}") at ${line}:${column}: ${reason}`,
              frame,
            });
          }
        });
      }
    }
  }
  try {
    checkFormatVersions(versions);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    report.problems.push({ message: e.message });
  }
  if (fragments.length) {
    const { checkWatFragments } = await import("../asm/mod.ts");
    report.fragments = fragments.length;
    const target = options.target ?? (memory64 ? "wasm64" : "wasm32");
    for (const e of await checkWatFragments(fragments, { target })) {
      report.problems.push({ message: e.message, frame: e.frame });
    }
  }
  return report;
}
