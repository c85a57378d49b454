// Shared shape of host-function tables: each area exports { importName: impl }.
// i32 arguments arrive as signed JS numbers, i64 as bigint; implementations use `>>> 0`.

import type { Vm } from "../vm.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFn = (vm: Vm, ...args: any[]) => number | void;
export type HostFns = Record<string, HostFn>;

export { decodeText as utf8 } from "../text.js";
