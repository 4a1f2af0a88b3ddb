/**
 * The reference for reachability tests: the functions binaryen's remove-unused-module-elements
 * keeps. binaryen removes unreachable functions, and empties to a lone `unreachable` the bodies
 * of functions that stay only because an element segment lists them while no reachable
 * call_indirect can call their type: those count as removed.
 * @module
 */
export async function binaryenKeeps(bytes: Uint8Array): Promise<Set<string>> {
  const binaryen = (await import("binaryen")).default;
  binaryen.setDebugInfo(true);
  const ir = binaryen.readBinary(bytes);
  try {
    ir.setFeatures(binaryen.Features.All);
    const trapOnly = () => {
      const out = new Map<string, boolean>();
      for (let i = 0; i < ir.getNumFunctions(); i++) {
        const info = binaryen.getFunctionInfo(ir.getFunctionByIndex(i));
        out.set(
          info.name,
          !info.module && binaryen.getExpressionId(info.body) === binaryen.UnreachableId,
        );
      }
      return out;
    };
    const before = trapOnly();
    ir.runPasses(["remove-unused-module-elements"]);
    const kept = new Set<string>();
    for (const [name, trap] of trapOnly()) if (!trap || before.get(name)) kept.add(name);
    return kept;
  } finally {
    ir.dispose();
  }
}
