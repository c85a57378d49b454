// Finds plugin.wasm in a tar+gzip layer as Istio's extractWasmPluginBinary does: gunzip, then walk
// the tar through io.LimitReader(ISTIO_WASM_MAX_BINARY_SIZE_BYTES) and take the first entry whose
// filepath.Base is "plugin.wasm", whatever its type. Streams: memory stays proportional to
// plugin.wasm, not to what the layer decompresses to.
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { OciError } from "./errors.js";
import { printable } from "./printable.js";

const BLOCK = 512;
const TARGET = "plugin.wasm";
/** Types Go's archive/tar reads no data for (isHeaderOnlyType). */
const HEADER_ONLY = new Set(["1", "2", "3", "4", "5", "6"]);
/** Go's archive/tar refuses PAX and GNU long-name records above 1 MiB (maxSpecialFileSize). */
const MAX_SPECIAL = 1 << 20;

function field(block: Buffer, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end === -1 ? length : end).toString("utf8");
}

function entrySize(block: Buffer): number {
  if (block[124] & 0x80) return Number(block.readBigUInt64BE(128 + 4)); // GNU base-256
  const text = field(block, 124, 12).trim();
  if (!/^[0-7]*$/.test(text)) throw new OciError("the layer's tar has an invalid header (size)");
  return parseInt(text || "0", 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = parseInt(field(block, 148, 8).trim(), 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** PAX records ("<len> key=value\n"): the path and size that override the next header's. */
function paxRecords(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  for (const record of data.toString("utf8").split("\n")) {
    const match = /^\d+ ([^=]+)=(.*)$/.exec(record);
    if (match?.[1] === "path") out.path = match[2];
    if (match?.[1] === "size" && /^\d+$/.test(match[2])) out.size = Number(match[2]);
  }
  return out;
}

/** PAX (x, g) and GNU long name/link (L, K) records describe the next entry; they are not files. */
const meta = (type: string) => type === "x" || type === "g" || type === "L" || type === "K";

const baseName = (name: string) => name.replace(/\/+$/, "").split("/").pop() ?? "";

/** plugin.wasm from a gzipped tar layer; throws with Istio's reason when it would not find it. */
export async function pluginFromTarGz(layer: Buffer, limit: number): Promise<Buffer> {
  let total = 0;
  let pending: Buffer = Buffer.alloc(0);
  let header: { name: string; size: number; keep: boolean; type: string } | undefined;
  let remaining = 0; // data bytes of the current entry, padding included
  let collected: Buffer[] = [];
  let collectedBytes = 0;
  let override: { path?: string; size?: number } = {};
  let longName: string | undefined;

  const gunzip = createGunzip();
  const input = Readable.from([layer]);
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      // io.LimitReader: the tar reader sees at most `limit` decompressed bytes.
      const visible = chunk.subarray(0, Math.max(0, limit - total));
      total += chunk.length;
      pending = pending.length ? Buffer.concat([pending, visible]) : visible;
      for (;;) {
        if (!header) {
          if (pending.length < BLOCK) break;
          const block = pending.subarray(0, BLOCK);
          pending = pending.subarray(BLOCK);
          if (block.every((b) => b === 0)) throw new OciError(`${TARGET} not found in the archive`);
          if (!checksumOk(block)) throw new OciError("the layer's tar has an invalid header (checksum)");
          const type = String.fromCharCode(block[156] || 0x30);
          const magic = field(block, 257, 6);
          const prefix = magic === "ustar" ? field(block, 345, 155) : "";
          const name = override.path ?? longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
          const size = HEADER_ONLY.has(type) ? 0 : (override.size ?? entrySize(block));
          const special = meta(type);
          if (special && size > MAX_SPECIAL) throw new OciError("the layer's tar has a PAX or long-name record over 1 MiB");
          if (!special) {
            override = {};
            longName = undefined;
          }
          header = { name, size, type, keep: special || baseName(name) === TARGET };
          remaining = Math.ceil(size / BLOCK) * BLOCK;
          collected = [];
          collectedBytes = 0;
        }
        const take = Math.min(remaining, pending.length);
        if (header.keep && collectedBytes < header.size) {
          const part = pending.subarray(0, Math.min(take, header.size - collectedBytes));
          collected.push(part);
          collectedBytes += part.length;
        }
        pending = pending.subarray(take);
        remaining -= take;
        // Go's ReadFull stops at the entry's size: its padding need not fit under the limit.
        const found = header.keep && !meta(header.type);
        if (found && collectedBytes === header.size) return Buffer.concat(collected, collectedBytes);
        if (remaining > 0) break;
        const data = Buffer.concat(collected, collectedBytes);
        const done = header;
        header = undefined;
        if (done.type === "x") override = paxRecords(data);
        else if (done.type === "L") longName = field(data, 0, data.length);
      }
      if (total >= limit) break;
    }
  } catch (error) {
    if (error instanceof OciError) throw error;
    throw new OciError(`failed to parse the layer as tar.gz: ${printable((error as Error).message)}`);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (header?.keep && !meta(header.type)) {
    throw new OciError(`failed to read ${TARGET}: it extends past Istio's limit of ${limit} decompressed bytes (ISTIO_WASM_MAX_BINARY_SIZE_BYTES)`);
  }
  if (total >= limit) {
    throw new OciError(`${TARGET} not found within Istio's limit of ${limit} decompressed bytes (ISTIO_WASM_MAX_BINARY_SIZE_BYTES)`);
  }
  if (header || pending.length) throw new OciError(`the layer's tar archive is truncated`);
  throw new OciError(`${TARGET} not found in the archive`);
}
