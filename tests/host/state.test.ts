// Shared data with cpp-host's compare-and-swap, metrics with Envoy's rules, and the import table.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { offeredImports } from "../../host/abi/signatures.js";
import { implementationFor } from "../../host/imports/index.js";
import { createPlugin } from "../../host/index.js";
import { data, filter, messages } from "./support/wat.js";

describe("shared data (cpp-host shared_data.cc)", () => {
  it("creates with any cas, then rejects a stale cas and accepts the current one or 0", () => {
    const set = (cas: string) =>
      `(call $report (call $proxy_set_shared_data (i32.const 1024) (i32.const 1) (i32.const 1030) (i32.const 1) ${cas}))`;
    const wasm = filter({
      imports: ["proxy_set_shared_data", "proxy_get_shared_data"],
      body: `${data(1024, "k")}${data(1030, "v")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (call $report (call $proxy_get_shared_data (i32.const 1024) (i32.const 1) (i32.const 300) (i32.const 304) (i32.const 308)))
          ${set("(i32.const 12345)")}
          (drop (call $proxy_get_shared_data (i32.const 1024) (i32.const 1) (i32.const 300) (i32.const 304) (i32.const 308)))
          (call $log_out)
          ${set("(i32.add (i32.load (i32.const 308)) (i32.const 1))")}
          ${set("(i32.load (i32.const 308))")}
          ${set("(i32.const 0)")}
          (i32.const 1))`,
    });
    const start = createPlugin(wasm, { vmId: `cas-${process.pid}-${Date.now()}` }).start();
    assert.deepEqual(messages(start.logs), ["01", "00", "v", "08", "00", "00"]);
  });
});

describe("metrics (Envoy context.cc)", () => {
  it("types ids in the low bits, rejects counter deltas <= 0 and reads histograms as BAD_ARGUMENT", () => {
    const wasm = filter({
      imports: ["proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric"],
      body: `${data(1024, "hits")}${data(1030, "lat")}
        (func (export "proxy_on_configure") (param i32 i32) (result i32)
          (drop (call $proxy_define_metric (i32.const 0) (i32.const 1024) (i32.const 4) (i32.const 300)))
          (drop (call $proxy_define_metric (i32.const 2) (i32.const 1030) (i32.const 3) (i32.const 304)))
          (call $report (i32.load (i32.const 300)))
          (call $report (i32.load (i32.const 304)))
          (call $report (call $proxy_define_metric (i32.const 3) (i32.const 1024) (i32.const 4) (i32.const 300)))
          (call $report (call $proxy_increment_metric (i32.load (i32.const 300)) (i64.const 0)))
          (call $report (call $proxy_increment_metric (i32.load (i32.const 300)) (i64.const 5)))
          (call $report (call $proxy_record_metric (i32.load (i32.const 304)) (i64.const 42)))
          (call $report (call $proxy_get_metric (i32.load (i32.const 304)) (i32.const 320)))
          (call $report (call $proxy_get_metric (i32.const 8) (i32.const 320)))
          (call $report (call $proxy_get_metric (i32.load (i32.const 300)) (i32.const 320)))
          (call $report (i32.load (i32.const 320)))
          (i32.const 1))`,
    });
    const plugin = createPlugin(wasm);
    assert.deepEqual(messages(plugin.start().logs), ["04", "06", "02", "02", "00", "00", "02", "01", "00", "05"]);
    assert.deepEqual(plugin.metrics(), [
      { name: "hits", type: "counter", value: 5n, samples: [] },
      { name: "lat", type: "histogram", value: 0n, samples: [42n] },
    ]);
  });
});

describe("import table", () => {
  it("implements every import it offers, for both ABI versions", () => {
    for (const abi of ["0.2.0", "0.2.1"] as const) {
      const missing = [...offeredImports(abi).keys()].filter((full) => {
        const dot = full.indexOf(".");
        return implementationFor(full.slice(0, dot), full.slice(dot + 1)) === undefined;
      });
      assert.deepEqual(missing, [], abi);
    }
    assert.equal(offeredImports("0.2.1").size, 3 + 39 + 2 * 45);
  });
});
