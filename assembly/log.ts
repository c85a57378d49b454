// Logging that costs one cached level check when the level is off. The host's level is read again
// after every REFRESH_EVERY new contexts (Envoy can change it at run time), and never during
// start-up, where only proxy_log is allowed.
import { getLogLevel, log as hostLog } from "./hostcalls/log";
import { LogLevel } from "./types";

/** Below every level: a message always passes the inlined check against it, and `write` then asks. */
const UNKNOWN: i32 = -1;
const REFRESH_EVERY: u32 = 256;
let cachedLevel: i32 = UNKNOWN;
let startedUp = false;
let contextsSinceRefresh: u32 = 0;

/** Called by the dispatcher at each new context: now and then, the next log call asks the host again. */
export function contextCreated(): void {
  startedUp = true;
  if (++contextsSinceRefresh < REFRESH_EVERY) return;
  contextsSinceRefresh = 0;
  cachedLevel = UNKNOWN;
}

function currentLevel(): i32 {
  if (!startedUp) return LogLevel.Trace;
  if (cachedLevel == UNKNOWN) cachedLevel = getLogLevel();
  return cachedLevel;
}

export namespace log {
  /** Whether a message at `level` would be logged: guard expensive message building with it. */
  export function enabled(level: LogLevel): bool {
    return level >= currentLevel();
  }

  export function write(level: LogLevel, message: string): void {
    if (level >= currentLevel()) hostLog(level, message);
  }

  // Inlined: a message below the cached level costs one load and a compare at the call, no call.
  // @ts-ignore: decorator
  @inline export function trace(message: string): void { if (LogLevel.Trace >= cachedLevel) write(LogLevel.Trace, message); }
  // @ts-ignore: decorator
  @inline export function debug(message: string): void { if (LogLevel.Debug >= cachedLevel) write(LogLevel.Debug, message); }
  // @ts-ignore: decorator
  @inline export function info(message: string): void { if (LogLevel.Info >= cachedLevel) write(LogLevel.Info, message); }
  // @ts-ignore: decorator
  @inline export function warn(message: string): void { if (LogLevel.Warn >= cachedLevel) write(LogLevel.Warn, message); }
  // @ts-ignore: decorator
  @inline export function error(message: string): void { if (LogLevel.Error >= cachedLevel) write(LogLevel.Error, message); }
  // @ts-ignore: decorator
  @inline export function critical(message: string): void { if (LogLevel.Critical >= cachedLevel) write(LogLevel.Critical, message); }
}
