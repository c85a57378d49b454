// What the callback deadline (host/deadline.ts) costs: add-header's whole request through the
// testing API, and one callback alone (a WAT filter whose on_request_headers returns at once,
// driven phase by phase), with and without a deadline. Prints ns per callback; no assertions.
//   npx tsc -p tsconfig.json && node dist/bench/callback-deadline.js

import { readFileSync } from "node:fs";
import { join } from "node:path";
import wabt from "wabt";
import { createPlugin } from "../host/index.js";

const ROUNDS = Number(process.env.ROUNDS ?? 3000);
const CALLBACKS_PER_REQUEST = 6; // add-header: context_create, request and response headers, log, done, delete

const trivial = async () => {
  const w = await wabt();
  const source = `(module
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0)))`;
  return w.parseWat("trivial.wat", source).toBinary({}).buffer;
};

function perRequestNs(wasm: Uint8Array, deadlineMs: number, configuration?: string): number {
  const plugin = createPlugin(wasm, { callbackDeadlineMs: deadlineMs, configuration });
  if (!plugin.start().ok) throw new Error(plugin.failure ?? "did not start");
  for (let i = 0; i < 200; i++) plugin.runHttpRequest();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) plugin.runHttpRequest();
  return Number(process.hrtime.bigint() - started) / ROUNDS;
}

function perCallbackNs(wasm: Uint8Array, deadlineMs: number): number {
  const plugin = createPlugin(wasm, { callbackDeadlineMs: deadlineMs });
  if (!plugin.start().ok) throw new Error(plugin.failure ?? "did not start");
  const streams = Array.from({ length: ROUNDS + 200 }, () => plugin.newHttpStream());
  for (const s of streams.slice(0, 200)) s.sendRequestHeaders([[":path", "/"]], true);
  let elapsed = 0n;
  for (const s of streams.slice(200)) {
    const started = process.hrtime.bigint();
    s.sendRequestHeaders([[":path", "/"]], true);
    elapsed += process.hrtime.bigint() - started;
  }
  return Number(elapsed) / ROUNDS;
}

const addHeader = readFileSync(join(process.cwd(), "examples", "add-header", "build", "plugin.wasm"));
const one = await trivial();
const fmt = (ns: number) => `${Math.round(ns).toLocaleString("en-US")} ns`;
for (const [label, deadline] of [["no deadline", 0], ["deadline 10 s", 10_000]] as const) {
  const request = perRequestNs(addHeader, deadline, undefined);
  const phase = perCallbackNs(one, deadline);
  console.log(
    `${label.padEnd(14)} add-header request ${fmt(request).padStart(10)} (${fmt(request / CALLBACKS_PER_REQUEST)} per callback)   ` +
      `one on_request_headers phase ${fmt(phase).padStart(9)}`,
  );
}
