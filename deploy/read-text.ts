// Reads a file the user names, within a size limit: `migrate /dev/zero` or a FIFO must fail at once
// rather than read until memory runs out.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";

export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  const unreadable = (error: unknown) =>
    new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  const info = await stat(path).catch((error) => {
    throw unreadable(error);
  });
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  if (info.size > maxBytes) throw new Error(`${path} is ${info.size} bytes; the limit is ${maxBytes}`);
  // One byte past the limit at most: a file that grew since stat is still caught.
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of createReadStream(path, { start: 0, end: maxBytes })) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
    }
  } catch (error) {
    throw unreadable(error);
  }
  if (total > maxBytes) throw new Error(`${path} is over ${maxBytes} bytes`);
  return Buffer.concat(chunks).toString("utf8");
}
