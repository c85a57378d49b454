// Every import the host offers and every export it looks up, with the exact wasm types that
// cpp-host checks (include/proxy-wasm/exports.h, wasm.h; src/wasm.cc registerCallbacks and
// getFunctions). "Word" is i32 on wasm32; int64_t/uint64_t are i64.

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";
export interface FuncSig {
  params: ValType[];
  results: ValType[];
}

const i32s = (n: number): ValType[] => Array.from({ length: n }, () => "i32" as const);
const sig = (params: ValType[] | number, results: ValType[] = ["i32"]): FuncSig => ({
  params: typeof params === "number" ? i32s(params) : params,
  results,
});

export type AbiVersion = "0.1.0" | "0.2.0" | "0.2.1";
export const ABI_MARKERS: Record<string, AbiVersion> = {
  proxy_abi_version_0_1_0: "0.1.0",
  proxy_abi_version_0_2_0: "0.2.0",
  proxy_abi_version_0_2_1: "0.2.1",
};

/** FOR_ALL_HOST_FUNCTIONS: offered to every ABI version. */
const COMMON_PROXY_IMPORTS: Record<string, FuncSig> = {
  proxy_log: sig(3),
  proxy_get_status: sig(3),
  proxy_set_property: sig(4),
  proxy_get_property: sig(4),
  proxy_send_local_response: sig(8),
  proxy_get_shared_data: sig(5),
  proxy_set_shared_data: sig(5),
  proxy_register_shared_queue: sig(3),
  proxy_resolve_shared_queue: sig(5),
  proxy_dequeue_shared_queue: sig(3),
  proxy_enqueue_shared_queue: sig(3),
  proxy_get_header_map_value: sig(5),
  proxy_add_header_map_value: sig(5),
  proxy_replace_header_map_value: sig(5),
  proxy_remove_header_map_value: sig(3),
  proxy_get_header_map_pairs: sig(3),
  proxy_set_header_map_pairs: sig(3),
  proxy_get_header_map_size: sig(2),
  proxy_get_buffer_status: sig(3),
  proxy_get_buffer_bytes: sig(5),
  proxy_set_buffer_bytes: sig(5),
  proxy_http_call: sig(10),
  proxy_grpc_call: sig(12),
  proxy_grpc_stream: sig(9),
  proxy_grpc_close: sig(1),
  proxy_grpc_cancel: sig(1),
  proxy_grpc_send: sig(4),
  proxy_set_tick_period_milliseconds: sig(1),
  proxy_get_current_time_nanoseconds: sig(1),
  proxy_define_metric: sig(4),
  proxy_increment_metric: sig(["i32", "i64"]),
  proxy_record_metric: sig(["i32", "i64"]),
  proxy_get_metric: sig(2),
  proxy_set_effective_context: sig(1),
  proxy_done: sig(0),
  proxy_call_foreign_function: sig(6),
};

/** Registered by cpp-host for every module ("env" helpers) and by Envoy (wasm.cc). */
const EXTRA_ENV_IMPORTS: Record<string, FuncSig> = {
  pthread_equal: sig(2),
  emscripten_notify_memory_growth: sig(1, []),
  envoy_resolve_dns: sig(3),
};

/** The ABI-specific registrations of cpp-host registerCallbacks(). */
const ABI_SPECIFIC_IMPORTS: Record<AbiVersion, Record<string, FuncSig>> = {
  "0.1.0": {
    proxy_get_configuration: sig(2),
    proxy_continue_request: sig(0),
    proxy_continue_response: sig(0),
    proxy_clear_route_cache: sig(0),
  },
  // 0.2.0 modules are NOT offered proxy_get_log_level (added in 0.2.1).
  "0.2.0": { proxy_continue_stream: sig(1), proxy_close_stream: sig(1) },
  "0.2.1": {
    proxy_continue_stream: sig(1),
    proxy_close_stream: sig(1),
    proxy_get_log_level: sig(1),
  },
};

export function envImports(abi: AbiVersion): Record<string, FuncSig> {
  return { ...EXTRA_ENV_IMPORTS, ...COMMON_PROXY_IMPORTS, ...ABI_SPECIFIC_IMPORTS[abi] };
}

/** FOR_ALL_WASI_FUNCTIONS with the wasm types of exports.h. */
export const WASI_IMPORTS: Record<string, FuncSig> = {
  fd_write: sig(4),
  fd_read: sig(4),
  fd_seek: sig(["i32", "i64", "i32", "i32"]),
  fd_close: sig(1),
  fd_fdstat_get: sig(2),
  fd_fdstat_set_flags: sig(2),
  fd_fdstat_set_rights: sig(["i32", "i64", "i64"]),
  environ_get: sig(2),
  environ_sizes_get: sig(2),
  args_get: sig(2),
  args_sizes_get: sig(2),
  clock_time_get: sig(["i32", "i64", "i32"]),
  clock_res_get: sig(2),
  fd_advise: sig(["i32", "i64", "i64", "i32"]),
  fd_allocate: sig(["i32", "i64", "i64"]),
  fd_datasync: sig(1),
  fd_filestat_set_size: sig(["i32", "i64"]),
  fd_filestat_set_times: sig(["i32", "i64", "i64", "i32"]),
  fd_pread: sig(["i32", "i32", "i32", "i64", "i32"]),
  fd_pwrite: sig(["i32", "i32", "i32", "i64", "i32"]),
  fd_readdir: sig(["i32", "i32", "i32", "i64", "i32"]),
  fd_renumber: sig(2),
  fd_sync: sig(1),
  fd_tell: sig(2),
  path_create_directory: sig(3),
  path_filestat_set_times: sig(["i32", "i32", "i32", "i32", "i64", "i64", "i32"]),
  // cpp-host declares path_link with 6 and path_symlink with 4 params (exports.h), unlike WASI.
  path_link: sig(6),
  path_readlink: sig(6),
  path_remove_directory: sig(3),
  path_rename: sig(6),
  path_symlink: sig(4),
  path_unlink_file: sig(3),
  sock_accept: sig(3),
  sock_recv: sig(6),
  sock_send: sig(5),
  sock_shutdown: sig(2),
  random_get: sig(2),
  sched_yield: sig(0),
  poll_oneoff: sig(4),
  proc_exit: sig(1, []),
  path_open: sig(["i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"]),
  fd_prestat_get: sig(2),
  fd_prestat_dir_name: sig(3),
  path_filestat_get: sig(5),
  fd_filestat_get: sig(2),
};
export const WASI_MODULES = ["wasi_snapshot_preview1", "wasi_unstable"] as const;

/** The full import table offered to a module of the given ABI version: "module.name" -> sig. */
export function offeredImports(abi: AbiVersion): Map<string, FuncSig> {
  const table = new Map<string, FuncSig>();
  for (const [name, s] of Object.entries(envImports(abi))) table.set(`env.${name}`, s);
  for (const mod of WASI_MODULES) {
    for (const [name, s] of Object.entries(WASI_IMPORTS)) table.set(`${mod}.${name}`, s);
  }
  return table;
}

/** FOR_ALL_MODULE_FUNCTIONS plus the 0.2.x-specific callbacks (wasm.h / wasm.cc getFunctions). */
export const CALLBACK_EXPORTS: Record<string, FuncSig> = {
  proxy_validate_configuration: sig(2),
  proxy_on_vm_start: sig(2),
  proxy_on_configure: sig(2),
  proxy_on_tick: sig(1, []),
  proxy_on_context_create: sig(2, []),
  proxy_on_new_connection: sig(1),
  proxy_on_downstream_data: sig(3),
  proxy_on_upstream_data: sig(3),
  proxy_on_downstream_connection_close: sig(2, []),
  proxy_on_upstream_connection_close: sig(2, []),
  proxy_on_request_headers: sig(3),
  proxy_on_request_body: sig(3),
  proxy_on_request_trailers: sig(2),
  proxy_on_request_metadata: sig(2),
  proxy_on_response_headers: sig(3),
  proxy_on_response_body: sig(3),
  proxy_on_response_trailers: sig(2),
  proxy_on_response_metadata: sig(2),
  proxy_on_http_call_response: sig(5, []),
  proxy_on_grpc_receive: sig(3, []),
  proxy_on_grpc_close: sig(3, []),
  proxy_on_grpc_receive_initial_metadata: sig(3, []),
  proxy_on_grpc_receive_trailing_metadata: sig(3, []),
  proxy_on_queue_ready: sig(2, []),
  proxy_on_foreign_function: sig(3, []),
  proxy_on_done: sig(1),
  proxy_on_log: sig(1, []),
  proxy_on_delete: sig(1, []),
};

/** Start-up and allocator exports; which of them cpp-host looks up depends on the others. */
export const STARTUP_EXPORTS: Record<string, FuncSig> = {
  _initialize: sig(0, []),
  _start: sig(0, []),
  main: sig(2),
  __main_void: sig(0),
  malloc: sig(1),
  proxy_on_memory_allocate: sig(1),
};

export function formatTypes(types: ValType[]): string {
  return types.length === 0 ? "void" : types.join(" ");
}

export function sameSig(a: FuncSig, b: FuncSig): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) &&
    a.results.every((t, i) => t === b.results[i])
  );
}
