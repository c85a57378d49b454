// The WASI functions cpp-host offers under wasi_snapshot_preview1 and wasi_unstable, with the
// same answers (src/exports.cc): stdout/stderr become logs, clocks and random work, everything
// file-system-like is a stub.

import { randomFillSync } from "node:crypto";
import { Errno } from "../abi/enums.js";
import type { Vm } from "../vm.js";
import type { HostFns } from "./types.js";

const RANDOM_GET_MAX = 64 * 1024; // limits.h PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES

function writev(vm: Vm, fd: number, iovs: number, iovsLen: number): { errno: Errno; written: number } {
  const level = fd === 1 ? 2 : fd === 2 ? 4 : -1; // stdout at INFO, stderr at ERROR
  if (level < 0) return { errno: Errno.Badf, written: 0 };
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < iovsLen >>> 0; i++) {
    const buf = vm.memory.readU32(iovs + i * 8);
    const len = vm.memory.readU32(iovs + i * 8 + 4);
    if (buf === null || len === null) return { errno: Errno.Fault, written: 0 };
    if (len === 0) continue;
    const bytes = vm.memory.read(buf, len);
    if (bytes === null) return { errno: Errno.Fault, written: 0 };
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length > 0) vm.log(level, text.endsWith("\n") ? text.slice(0, -1) : text);
  return { errno: Errno.Success, written: chunks.reduce((n, c) => n + c.length, 0) };
}

const onlyStdio = (fd: number) => fd === 1 || fd === 2;
const stdioOr = (fd: number, ok: Errno) => (onlyStdio(fd) ? ok : Errno.Badf);

export const wasiImports: HostFns = {
  fd_write(vm, fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) {
    const { errno, written } = writev(vm, fd, iovs, iovsLen);
    if (errno !== Errno.Success) return errno;
    return vm.memory.writeU32(nwrittenPtr, written) ? Errno.Success : Errno.Fault;
  },
  fd_pwrite(vm, fd: number, iovs: number, iovsLen: number, _offset: bigint, nwrittenPtr: number) {
    if (!onlyStdio(fd)) return Errno.Badf;
    const { errno, written } = writev(vm, fd, iovs, iovsLen);
    if (errno !== Errno.Success) return errno;
    return vm.memory.writeU32(nwrittenPtr, written) ? Errno.Success : Errno.Fault;
  },
  fd_read: () => Errno.Nosys,
  fd_seek: () => Errno.Success,
  fd_close: () => Errno.Success,
  fd_fdstat_get(vm, fd: number, statPtr: number) {
    if (!onlyStdio(fd)) return Errno.Badf;
    const stat = new Uint8Array(24);
    stat[8] = 64; // fs_rights_base = FD_WRITE
    vm.memory.write(statPtr, stat);
    return Errno.Success;
  },
  fd_fdstat_set_flags: () => Errno.Nosys,
  fd_fdstat_set_rights: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  environ_sizes_get(vm, countPtr: number, bufSizePtr: number) {
    const entries = environ(vm);
    const size = entries.reduce((n, e) => n + e.length + 1, 0);
    if (!vm.memory.writeU32(countPtr, entries.length)) return Errno.Fault;
    return vm.memory.writeU32(bufSizePtr, size) ? Errno.Success : Errno.Fault;
  },
  environ_get(vm, arrayPtr: number, bufPtr: number) {
    let pos = bufPtr >>> 0;
    for (const [i, entry] of environ(vm).entries()) {
      const bytes = new TextEncoder().encode(`${entry}\0`);
      if (!vm.memory.writeU32(arrayPtr + i * 4, pos) || !vm.memory.write(pos, bytes)) return Errno.Fault;
      pos += bytes.length;
    }
    return Errno.Success;
  },
  args_sizes_get(vm, argcPtr: number, bufSizePtr: number) {
    if (!vm.memory.writeU32(argcPtr, 0)) return Errno.Fault;
    return vm.memory.writeU32(bufSizePtr, 0) ? Errno.Success : Errno.Fault;
  },
  args_get: () => Errno.Success,
  clock_time_get(vm, clockId: number, _precision: bigint, retPtr: number) {
    let now: bigint;
    if (clockId === 0) now = vm.clock.realtimeNs();
    else if (clockId === 1) now = vm.clock.monotonicNs();
    else return Errno.Notsup;
    return vm.memory.writeU64(retPtr, now) ? Errno.Success : Errno.Fault;
  },
  clock_res_get(vm, clockId: number, retPtr: number) {
    if (clockId !== 0 && clockId !== 1) return Errno.Notsup;
    return vm.memory.writeU64(retPtr, 1n) ? Errno.Success : Errno.Fault;
  },
  random_get(vm, bufPtr: number, len: number) {
    if (len >>> 0 > RANDOM_GET_MAX) return Errno.Inval;
    if (len >>> 0 === 0) return Errno.Success;
    return vm.memory.write(bufPtr, randomFillSync(new Uint8Array(len >>> 0))) ? Errno.Success : Errno.Fault;
  },
  fd_advise: () => Errno.Success,
  fd_allocate: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  fd_datasync: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  fd_filestat_set_size: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  fd_filestat_set_times: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  fd_pread: () => Errno.Nosys,
  fd_readdir: () => Errno.Notdir,
  fd_renumber: (_vm, fd: number) => stdioOr(fd, Errno.Notsup),
  fd_sync: (_vm, fd: number) => stdioOr(fd, Errno.Success),
  fd_tell(vm, fd: number, retPtr: number) {
    if (!onlyStdio(fd)) return Errno.Badf;
    return vm.memory.writeU64(retPtr, 0n) ? Errno.Success : Errno.Fault;
  },
  path_create_directory: () => Errno.Notsup,
  path_filestat_set_times: () => Errno.Notsup,
  path_link: () => Errno.Notsup,
  path_readlink: () => Errno.Notsup,
  path_remove_directory: () => Errno.Notsup,
  path_rename: () => Errno.Notsup,
  path_symlink: () => Errno.Notsup,
  path_unlink_file: () => Errno.Notsup,
  sock_accept: () => Errno.Notsup,
  sock_recv: () => Errno.Notsup,
  sock_send: () => Errno.Notsup,
  sock_shutdown: () => Errno.Notsup,
  sched_yield: () => Errno.Success,
  poll_oneoff(vm, _in: number, _out: number, _n: number, neventsPtr: number) {
    // cpp-host reports zero events and SUCCESS (the Go runtime needs it).
    return vm.memory.writeU32(neventsPtr, 0) ? Errno.Success : Errno.Fault;
  },
  proc_exit(vm) {
    // cpp-host only calls context->error(), which Envoy logs at trace; execution continues.
    vm.log(0, "wasi_unstable proc_exit");
  },
  path_open: () => Errno.Noent,
  fd_prestat_get: () => Errno.Badf,
  fd_prestat_dir_name: () => Errno.Nosys,
  path_filestat_get: () => Errno.Notsup,
  fd_filestat_get: () => Errno.Badf,
};

function environ(vm: Vm): string[] {
  return Object.entries(vm.config.environment).map(([k, v]) => `${k}=${v}`);
}
