// Reads every regular file of a tar archive at once: the tests' view of a layer the image code wrote.
import type { TarFile } from "../../../oci/tar.js";

const BLOCK = 512;

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

function readSize(block: Buffer): number {
  if (block[124] & 0x80) return Number(block.readBigUInt64BE(128 + 4)); // GNU base-256 size
  return parseInt(readString(block, 124, 12).trim() || "0", 8);
}

/** PAX extended headers may carry a long path that replaces the next entry's name. */
function paxPath(data: Buffer): string | undefined {
  for (const record of data.toString("utf8").split("\n")) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

/** Every regular file in a tar archive, by path. */
export function* readTar(archive: Buffer): Generator<TarFile> {
  let offset = 0;
  let nextName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return;
    const size = readSize(block);
    const type = String.fromCharCode(block[156] || 0x30);
    const data = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    if (data.length < size) throw new Error("tar: archive is truncated");
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      nextName = paxPath(data);
      continue;
    }
    const prefix = readString(block, 345, 155);
    const name = nextName ?? (prefix ? `${prefix}/${readString(block, 0, 100)}` : readString(block, 0, 100));
    nextName = undefined;
    if (type === "0" || type === "7") yield { name, data };
  }
}
