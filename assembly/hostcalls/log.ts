// Logging host calls. proxy_log is the one call allowed everywhere, even during start-up.
import { proxy_get_log_level, proxy_log } from "../abi/imports";
import { outValue } from "../runtime/memory";
import { LogLevel, WasmResult } from "../types";
import { encodeUtf8 } from "../utf8";

export function log(level: LogLevel, message: string): WasmResult {
  const bytes = encodeUtf8(message);
  return proxy_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** The host's current log level, or Trace when the host cannot say. */
export function getLogLevel(): LogLevel {
  store<u32>(outValue(), LogLevel.Trace);
  if (proxy_get_log_level(outValue()) != WasmResult.Ok) return LogLevel.Trace;
  return load<u32>(outValue());
}
