// Logging that costs one cached level check when the level is off. The host's level is read again
// after every REFRESH_EVERY new contexts (Envoy can change it at run time), and never during
// start-up, where only proxy_log is allowed.
import { getLogLevel, log as hostLog } from "./hostcalls/log";
import { LogLevel } from "./types";

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

  export function trace(message: string): void { write(LogLevel.Trace, message); }
  export function debug(message: string): void { write(LogLevel.Debug, message); }
  export function info(message: string): void { write(LogLevel.Info, message); }
  export function warn(message: string): void { write(LogLevel.Warn, message); }
  export function error(message: string): void { write(LogLevel.Error, message); }
  export function critical(message: string): void { write(LogLevel.Critical, message); }
}
