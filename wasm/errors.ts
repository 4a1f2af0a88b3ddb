/**
 * Typed errors of the binary layer.
 * @module
 */

/** A byte sequence that is not the WebAssembly the reader expected, with the byte offset. */
export class WasmParseError extends SyntaxError {
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;
  /** The file the bytes came from, when the caller said. */
  file?: string;
  /** The message without the file prefix and offset suffix. */
  readonly detail: string;

  /** `detail` is the message without the offset; `offset` is a file offset. */
  constructor(detail: string, offset: number, file?: string) {
    super(`${detail} (at offset 0x${offset.toString(16)})`);
    this.name = "WasmParseError";
    this.offset = offset;
    this.detail = detail;
    this.file = file;
  }
}

/** The input is not a core WebAssembly module at all (ELF, text, component, ...). */
export class NotWasmError extends WasmParseError {
  /** `detail` says what the file is instead. */
  constructor(detail: string, file?: string) {
    super(detail, 0, file);
    this.name = "NotWasmError";
    this.message = detail;
  }
}
