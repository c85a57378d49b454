// CPU time from Linux's /proc: per process (all its threads) and for the whole machine. null elsewhere.
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

/** User + system CPU seconds of a process so far, or null. */
export function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all cores so far (/proc/stat), or null. */
export function machineJiffies(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - (cpu[4] ?? 0), total }; // idle, iowait
  } catch {
    return null;
  }
}

/** How many of the machine's cores were busy between two readings, or null. */
export function coresBusy(before: ReturnType<typeof machineJiffies>, after: ReturnType<typeof machineJiffies>): number | null {
  if (!before || !after || after.total === before.total) return null;
  return ((after.busy - before.busy) / (after.total - before.total)) * cpus().length;
}
