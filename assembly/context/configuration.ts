import { decodeUtf8 } from "../utf8";

/** A VM or plugin configuration, as Envoy passes it (Istio always passes pluginConfig as JSON text). */
export class Configuration {
  constructor(readonly bytes: ArrayBuffer) {}

  get size(): i32 { return this.bytes.byteLength; }
  get isEmpty(): bool { return this.bytes.byteLength == 0; }

  /** The configuration as UTF-8 text. */
  toString(): string { return decodeUtf8(this.bytes); }
}
