import { createHash } from "node:crypto";

/** The OCI content address of some bytes: "sha256:<64 hex>". */
export function sha256Digest(data: Uint8Array): string {
  return "sha256:" + createHash("sha256").update(data).digest("hex");
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}
