/**
 * Cold and warm assembly throughput of the rwat assembler.
 *
 * - process: `linkpass asm --fragment` (Deno start-up, wabt.js load, one record) against native
 *   `wat2wasm` on the same functions as plain WAT (no relocatable layer).
 * - in-process: `assembleFragment()` against wabt.js alone (parse, validate, encode the plain
 *   text), on one record and on 200 records (a crate graph's worth of `js_bindgen.wat`), so the
 *   ratio is the cost of the annotations and the relocatable layer.
 *
 * Run with `deno bench -A bench/asm_bench.ts`.
 */
import wabtInit from "wabt";
import { assembleFragment } from "../asm/mod.ts";

const fixture = (name: string) =>
  new URL(`../tests/fixtures/asm/${name}`, import.meta.url).pathname;
const cli = new URL("../cli.ts", import.meta.url).pathname;
const fragment = await Deno.readTextFile(fixture("externref.wat"));
/** The same text with the annotations blanked: what plain wabt gets. */
const plain = `(module\n${fragment.replace(/\(@(sym|reloc)(\s+\(name "[^"]*"\))?\)/g, "")}\n)`;
const dir = await Deno.makeTempDir();
await Deno.writeTextFile(`${dir}/externref.wat`, fragment);
await Deno.writeTextFile(`${dir}/plain.wat`, plain);

const FEATURES = { reference_types: true, bulk_memory: true, multi_value: true };
const wabt = await wabtInit();
const wat2wasm = (text: string) => {
  const m = wabt.parseWat("plain.wat", text, FEATURES);
  try {
    m.resolveNames();
    m.validate();
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
};
wat2wasm(plain);
await assembleFragment(fragment);

/** 200 distinct records: the externref helpers with renamed symbols. */
const records = Array.from(
  { length: 200 },
  (_, i) => fragment.replaceAll("js_sys.externref.", `r${i}.`),
);
const plainRecords = records.map((r) =>
  `(module\n${r.replace(/\(@(sym|reloc)(\s+\(name "[^"]*"\))?\)/g, "")}\n)`
);

async function spawn(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(r.stderr)}`);
}

Deno.bench({
  name: "native wat2wasm, plain WAT (process)",
  group: "process",
  baseline: true,
  async fn() {
    await spawn("wat2wasm", ["--enable-all", `${dir}/plain.wat`, "-o", `${dir}/plain.wasm`]);
  },
});

Deno.bench({
  name: "linkpass asm --fragment (process, cold)",
  group: "process",
  async fn() {
    await spawn(Deno.execPath(), [
      "run",
      "-A",
      cli,
      "asm",
      "--fragment",
      `${dir}/externref.wat`,
      "-o",
      `${dir}/externref.o`,
    ]);
  },
});

Deno.bench({
  name: "wabt.js plain WAT, 1 record",
  group: "1 record",
  baseline: true,
  fn() {
    wat2wasm(plain);
  },
});

Deno.bench({
  name: "assembleFragment, 1 record",
  group: "1 record",
  async fn() {
    await assembleFragment(fragment);
  },
});

Deno.bench({
  name: "wabt.js plain WAT, 200 records",
  group: "200 records",
  baseline: true,
  fn() {
    for (const r of plainRecords) wat2wasm(r);
  },
});

Deno.bench({
  name: "assembleFragment, 200 records",
  group: "200 records",
  async fn() {
    for (const r of records) await assembleFragment(r);
  },
});
