// Foreign functions: host extensions called by name (Envoy: compress, uncompress, declare_property, ...).
import { proxy_call_foreign_function } from "../abi/imports";
import { outPointer, outSize, resetOutSlots, takeHostBuffer } from "../runtime/memory";
import { WasmResult } from "../types";

/** A foreign function's answer; NotFound when the host has no function by that name. */
export class ForeignResult {
  constructor(readonly result: WasmResult, readonly value: ArrayBuffer | null) {}
}

export function callForeignFunction(name: ArrayBuffer, args: ArrayBuffer): ForeignResult {
  resetOutSlots();
  const result = proxy_call_foreign_function(changetype<usize>(name), name.byteLength, changetype<usize>(args), args.byteLength, outPointer(), outSize());
  return new ForeignResult(result, result == WasmResult.Ok ? takeHostBuffer() : null);
}
