/**
 * Shared by the code-pass tests: instantiate the Rust fixtures and call their exports, with the
 * calls each fixture is checked with (panicking paths included).
 * @module
 */

/** A module's exports as callable functions. */
export type Exports = Record<string, (...args: number[]) => number | bigint>;
export type Hook = (filePtr: number, fileLen: number, line: number, col: number) => void;

/** Instantiates a module; the hook (if the module imports one) records calls as file:line:col. */
export function instantiate(bytes: Uint8Array, seen: string[] = []): Exports {
  const state: { memory?: WebAssembly.Memory } = {};
  const hook: Hook = (ptr, len, line, col) => {
    const view = new Uint8Array(state.memory!.buffer, ptr >>> 0, len >>> 0);
    const file = new TextDecoder().decode(view);
    seen.push(`${file}:${line}:${col}`);
  };
  const mod = new WebAssembly.Module(bytes as BufferSource);
  const imports: WebAssembly.Imports = {};
  for (const i of WebAssembly.Module.imports(mod)) {
    // hooked.rs's own panic hook hands the formatted message to env.panic_message.
    (imports[i.module] ??= {})[i.name] = i.name === "panic_message"
      ? (ptr: number, len: number) => {
        const view = new Uint8Array(state.memory!.buffer, ptr >>> 0, len >>> 0);
        seen.push(`message: ${new TextDecoder().decode(view)}`);
      }
      : hook;
  }
  const instance = new WebAssembly.Instance(mod, imports);
  state.memory = instance.exports.memory as WebAssembly.Memory;
  return instance.exports as unknown as Exports;
}

/** Calls an export; a trap is returned as the string "trap". */
export function call(e: Exports, name: string, args: number[]): unknown {
  try {
    return e[name](...args);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) return "trap";
    throw err;
  }
}

export const SMALL_CALLS: [string, number[]][] = [
  ["add", [2, 40]],
  ["add", [0x7fffffff, 1]],
  ["checked_div", [84, 2]],
  ["checked_div", [-7, 2]],
  ["table_at", [0]],
  ["table_at", [7]],
  ["parse_positive", [12345]],
  ["prefix_sum", [0]],
  ["prefix_sum", [8]],
  ["sum_to", [10]],
  ["sum_to", [100000]],
  ["collatz_steps", [27]],
  // Panicking paths.
  ["checked_div", [1, 0]],
  ["table_at", [8]],
  ["parse_positive", [-1]],
  ["prefix_sum", [9]],
];
export const APP_CALLS: [string, number[]][] = [
  ["add", [2, 40]],
  ["checked_div", [84, 2]],
  ["fib_at", [6]],
  ["parse_positive", [7]],
  ["sum_to", [1000]],
  ["checked_div", [1, 0]],
  ["fib_at", [8]],
  ["parse_positive", [-5]],
];
export const MODULES: [string, [string, number[]][]][] = [
  ["panic/small_z.wasm", SMALL_CALLS],
  ["panic/hooked_z.wasm", [["init", []], ...SMALL_CALLS]],
  ["panic/small_2.wasm", SMALL_CALLS],
  ["rust_cdylib/app.wasm", APP_CALLS],
];
