/**
 * `linkpass check <inputs...>`: assemble every embedded WAT fragment and parse every JS snippet
 * in objects and archives, without linking, and report every problem at once (for editors and
 * CI, before the linker runs).
 * @module
 */
import { WasmParseError } from "../wasm/errors.ts";
import { WasmModule } from "../wasm/module.ts";
import { UsageError } from "../passes/types.ts";
import { checkFormatVersions, splitRecords } from "./guards.ts";
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
  inputs: number;
  /** WAT fragments assembled. */
  fragments: number;
  /** JS snippets (import and embed records) parsed. */
  snippets: number;
  problems: CheckProblem[];
}

/** A decoded `js_bindgen.import`/`js_bindgen.embed` record. */
export interface JsRecord {
  module: string;
  name: string;
  embeds: { module: string; name: string }[];
  text: string;
}

/** Decodes one `js_bindgen.import`/`js_bindgen.embed` record (FORMATS.md). */
export function decodeJsRecord(record: Uint8Array): JsRecord {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  const need = (n: number, what: string) => {
    if (pos + n > record.length) {
      throw new RangeError(`the record ends inside its ${what} (${record.length} bytes)`);
    }
  };
  const str = (what: string) => {
    need(2, `${what} length`);
    const len = view.getUint16(pos, true);
    pos += 2;
    need(len, what);
    const s = utf8.decode(record.subarray(pos, pos + len));
    pos += len;
    return s;
  };
  const module = str("module name");
  const name = str("name");
  need(1, "embed count");
  const count = record[pos++];
  const embeds = [];
  for (let i = 0; i < count; i++) {
    embeds.push({ module: str("embed module"), name: str("embed name") });
  }
  return { module, name, embeds, text: utf8.decode(record.subarray(pos)) };
}

/**
 * Returns the syntax error of a JS snippet (an expression, as glue uses it inside a class with
 * the private fields `#jsEmbed` and `#memory`), or undefined. Parses only; nothing runs.
 */
export function jsSyntaxError(text: string): string | undefined {
  try {
    new Function(
      `"use strict"; return (class { #jsEmbed; #memory; m() { return (\n${text}\n); } });`,
    );
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxError) return e.message;
    throw e;
  }
}

function where(obj: ObjectInput): string {
  return obj.member ? `"${obj.file}(${obj.member})"` : `"${obj.file}"`;
}

/**
 * Checks inputs without linking. Reads each file once; reports every problem instead of stopping
 * at the first.
 */
export async function checkInputs(
  paths: string[],
  options: { target?: "wasm32" | "wasm64" } = {},
): Promise<CheckReport> {
  const report: CheckReport = { inputs: paths.length, fragments: 0, snippets: 0, problems: [] };
  const fragments: { text: string; file: string; member?: string; record: number }[] = [];
  const versions: { crate: string; version: number; from: string }[] = [];
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
      const scanned = scanInput(path, bytes);
      objects = scanned.objects;
      for (const f of scanned.scan.fragments) fragments.push({ ...f, file: path });
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
        if (section.name !== "js_bindgen.import" && section.name !== "js_bindgen.embed") continue;
        let records: Uint8Array[];
        try {
          records = splitRecords(section.payload, section.name, section.payloadOffset);
        } catch (e) {
          if (!(e instanceof WasmParseError)) throw e;
          report.problems.push({ message: `Cannot read ${where(obj)}: ${e.message}` });
          continue;
        }
        records.forEach((raw, i) => {
          const label = `${section.name} record ${i + 1} of ${where(obj)}`;
          let rec: JsRecord;
          try {
            rec = decodeJsRecord(raw);
          } catch (e) {
            if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
            report.problems.push({ message: `Cannot decode ${label}: ${e.message}` });
            return;
          }
          report.snippets++;
          const error = jsSyntaxError(rec.text);
          if (error) {
            report.problems.push({
              message: `Invalid JS in ${label} ("${rec.module}"/"${rec.name}"): ${error}`,
              frame: rec.text.split("\n").slice(0, 5).map((l) => `  | ${l}`).join("\n"),
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
    for (const e of await checkWatFragments(fragments, options)) {
      report.problems.push({ message: e.message, frame: e.frame });
    }
  }
  return report;
}
