// The compiled filter a generated Envoy config points at: it must exist and be a WebAssembly module,
// or the config is written, Envoy is started, and the failure shows up only in Envoy's log.
import { open, stat } from "node:fs/promises";

const WASM_HEADER = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

function unreadable(path: string, error: unknown): Error {
  return new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
}

export async function checkModuleFile(path: string): Promise<void> {
  // stat before open: opening a FIFO or a device would block or read forever.
  const info = await stat(path).catch((error) => {
    throw unreadable(path, error);
  });
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  const file = await open(path, "r").catch((error) => {
    throw unreadable(path, error);
  });
  try {
    const header = Buffer.alloc(WASM_HEADER.length);
    const { bytesRead } = await file.read(header, 0, header.length, 0);
    if (bytesRead < header.length || !header.equals(WASM_HEADER)) {
      throw new Error(`${path} is not a WebAssembly module (it does not start with \\0asm version 1); build it first`);
    }
  } finally {
    await file.close();
  }
}
