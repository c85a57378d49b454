// runtime-config.json, the metadata both Wasm image variants carry next to the module
// (solo-io/wasm spec/spec.md, "Envoy WASM Filter Specification").
import { OciError } from "./errors.js";

const WASM_MAGIC = Buffer.from([0x00, 0x61, 0x73, 0x6d]);
const EXPORT_SECTION = 7;

function readLeb(bytes: Buffer, at: { offset: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at.offset >= bytes.length) throw new OciError("the wasm module is truncated");
    const byte = bytes[at.offset++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
  }
}

/** The names a wasm module exports; throws when the bytes are not a wasm module. */
export function wasmExportNames(wasm: Buffer): string[] {
  if (wasm.length < 8 || !wasm.subarray(0, 4).equals(WASM_MAGIC)) {
    throw new OciError("not a wasm module (the file does not start with \\0asm)");
  }
  const names: string[] = [];
  const at = { offset: 8 };
  while (at.offset < wasm.length) {
    const id = wasm[at.offset++];
    const size = readLeb(wasm, at);
    const end = at.offset + size;
    if (id === EXPORT_SECTION) {
      const count = readLeb(wasm, at);
      for (let i = 0; i < count; i++) {
        const length = readLeb(wasm, at);
        names.push(wasm.subarray(at.offset, at.offset + length).toString("utf8"));
        at.offset += length;
        at.offset++; // export kind
        readLeb(wasm, at); // index
      }
    }
    at.offset = end;
  }
  return names;
}

export interface RuntimeConfig {
  type: "envoy_proxy";
  abiVersions: string[];
  config: { root_ids: string[] };
}

/** The ABI versions are the module's own `proxy_abi_version_*` exports, which is what Envoy checks. */
export function runtimeConfigFor(wasm: Buffer, rootIds: string[]): RuntimeConfig {
  const abiVersions = wasmExportNames(wasm).filter((name) => name.startsWith("proxy_abi_version_")).sort();
  return { type: "envoy_proxy", abiVersions, config: { root_ids: [...rootIds] } };
}
