// A ustar writer for regular files, enough for Wasm image layers (find-in-layer.ts reads them).
// The writer is deterministic: fixed mtime, owner and mode, files in the order given,
// so the same inputs always give the same bytes (and the same layer digest).

const BLOCK = 512;

export interface TarFile {
  name: string;
  data: Uint8Array;
}

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, "utf8");
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  // length - 1 octal digits followed by NUL, as ustar readers expect.
  writeString(header, offset, length, value.toString(8).padStart(length - 1, "0") + "\0");
}

function fileHeader(name: string, size: number): Buffer {
  if (size > 0o77777777777) throw new Error(`tar: ${name} is too large for a ustar header`);
  const header = Buffer.alloc(BLOCK);
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644); // mode
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0); // mtime: the epoch, for reproducible layers
  header.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  header[156] = 0x30; // typeflag '0': regular file
  writeString(header, 257, 6, "ustar\0");
  writeString(header, 263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return header;
}

export function createTar(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(fileHeader(file.name, file.data.length), Buffer.from(file.data));
    const padding = (BLOCK - (file.data.length % BLOCK)) % BLOCK;
    parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return Buffer.concat(parts);
}
