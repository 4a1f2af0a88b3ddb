/** Prints an ESTree node as JavaScript text (the part of astring's API linkpass uses). */
export function generate(node: unknown, options?: { indent?: string; lineEnd?: string }): string;
