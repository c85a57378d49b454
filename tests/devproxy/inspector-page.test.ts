// The inspector page in a real headless browser (Debian's chromium driven by playwright-core):
// `run` with a chain of examples and a WAT filter that leaks a page per request and traps once
// it has leaked enough; the page shows each request with its phases and header diffs, the
// percentiles, the leak alarm and the trap, and escapes what clients and filters send.
// Without chromium it fails under CI and skips locally, saying why.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { LEAK_RULE, type Snapshot } from "../../devproxy/inspector/model.js";
import { filter, data } from "../host/support/wat.js";
import { repoRoot } from "../support/plugins.js";
import { startProxy, type RunningProxy } from "./support.js";

/** CHROMIUM_PATH when set (and nothing else), else Debian's chromium. */
function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  for (const candidate of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

const executablePath = findChromium();
const inCi = process.env.CI === "true" || process.env.CI === "1";
const skip = executablePath === null && !inCi ? "chromium is not installed (apt-get install chromium; .ci/run installs it)" : false;

const dir = mkdtempSync(join(tmpdir(), "pwas-inspector-"));
const example = (name: string) => join(repoRoot, "examples", name, "build", "plugin.wasm");
/** Removes x-evil from the request, grows memory by a page per request, traps once memory.grow saw 9 pages. */
const LEAKY = filter({
  imports: ["proxy_remove_header_map_value"],
  body: `${data(1000, "x-evil")}
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_remove_header_map_value (i32.const 0) (i32.const 1000) (i32.const 6)))
      (if (i32.ge_u (memory.grow (i32.const 1)) (i32.const 9)) (then unreachable))
      (i32.const 0))`,
});
const HOSTILE_VALUE = `<img src=x onerror="window.__pwned=1">`;
const HOSTILE_HEADER = `</script><script>window.__pwned=2</script>`;
const HOSTILE_PATH = `/<svg/onload=window.__pwned=3>`;

function get(url: string, path: string, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ hostname, port, path, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      })
      .on("error", reject);
  });
}

describe("the inspector page in headless chromium", { skip }, () => {
  let proxy: RunningProxy;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    assert.ok(executablePath, "chromium is not installed: CI must have it (apt-get install chromium, in .ci/run's install list)");
    const leaky = join(dir, "leaky.wasm");
    writeFileSync(leaky, LEAKY);
    proxy = await startProxy([
      example("add-header"),
      leaky,
      example("prime-authorizer"),
      "--config",
      JSON.stringify({ name: "x-note", value: HOSTILE_VALUE }),
    ]);
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${proxy.admin}/`);
    await page.waitForSelector(".connection.live");
  });

  after(async () => {
    await browser?.close();
    if (proxy) assert.equal(await proxy.stop(), 0);
  });

  it("shows a request live with each filter's phases, statuses and header diffs, escaped", async () => {
    assert.equal(await get(proxy.url, HOSTILE_PATH, { token: "13", "x-evil": HOSTILE_HEADER }), 200);
    const row = page.locator(".request[data-status='200']").first();
    await row.waitFor();
    assert.equal(await row.locator(".path").textContent(), HOSTILE_PATH);
    await row.locator("summary").click();
    const addHeader = row.locator(".filter[data-filter='add-header']");
    await addHeader.waitFor();
    const phases = await addHeader.locator(".phase-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-phase")));
    assert.deepEqual(phases, ["request_headers", "response_headers", "response_body", "log", "done", "delete"]);
    assert.equal(await addHeader.locator(".phase-row[data-phase='response_headers'] .phase-status").textContent(), "Continue");
    assert.deepEqual(await addHeader.locator(".diff .added").allTextContents(), [`+ x-note: ${HOSTILE_VALUE}`]);
    const leaky = row.locator(".filter[data-filter='leaky']");
    assert.deepEqual(await leaky.locator(".diff .removed").allTextContents(), [`− x-evil: ${HOSTILE_HEADER}`]);
    const authorizer = row.locator(".filter[data-filter='prime-authorizer']");
    assert.equal(await authorizer.locator(".phase-row[data-phase='request_headers'] .phase-status").textContent(), "Continue");
    // Text, never markup: no element came from the values, no script ran.
    assert.equal(await page.locator("#requests img, #requests svg, #requests script").count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  });

  it("shows a local reply and the filter that sent it", async () => {
    assert.equal(await get(proxy.url, "/denied", { token: "15" }), 403);
    const row = page.locator(".request[data-status='403']").first();
    await row.waitFor();
    assert.match(String(await row.locator(".ended").textContent()), /local reply by prime-authorizer/);
    await row.locator("summary").click();
    const reply = row.locator(".filter[data-filter='prime-authorizer'] .local-reply");
    assert.match(String(await reply.textContent()), /local reply 403.*Access forbidden\./);
    assert.equal(await row.locator(".filter[data-filter='prime-authorizer'] .phase-row[data-phase='request_headers'] .phase-status").textContent(), "StopAllIterationAndWatermark");
  });

  it("shows wasm time percentiles per filter and phase", async () => {
    const cell = page.locator("#phases tr[data-filter='add-header'][data-phase='response_headers'] .p50");
    await cell.waitFor();
    assert.match(String(await cell.textContent()), /^≈?\d+(\.\d+)?$/);
    assert.equal(await page.locator("#phases tr[data-filter='leaky'][data-phase='request_headers']").count(), 1);
  });

  it("raises the leak alarm for the VM that keeps growing, not for the others", async () => {
    // The rule leaves out a VM's first 5 s (warm-up), from its first memory sample.
    const state = (await (await fetch(`${proxy.admin}/inspector/state`)).json()) as Snapshot;
    const firstSample = state.memory.find((m) => m.vm === "leaky v1")!.samples[0][0];
    await new Promise((r) => setTimeout(r, Math.max(0, firstSample + LEAK_RULE.warmupMs + 500 - Date.now())));
    for (let i = 0; i < 5; i++) assert.equal(await get(proxy.url, `/leak/${i}`, { token: "7" }), 200);
    const alarm = page.locator(".vm[data-vm='leaky v1'] .leak");
    await alarm.waitFor({ timeout: 10_000 });
    assert.match(String(await alarm.textContent()), /memory keeps growing: \d+ increases/);
    assert.equal(await page.locator(".vm[data-vm='add-header v1'] .leak").count(), 0);
    assert.equal(await page.locator(".vm[data-vm='prime-authorizer v1'] .leak").count(), 0);
  });

  it("shows a trap with the host's report, then saves a screenshot", async () => {
    assert.equal(await get(proxy.url, "/trap", { token: "7" }), 503);
    const row = page.locator(".request[data-status='503']").first();
    await row.waitFor();
    assert.match(String(await row.locator(".ended").textContent()), /VM failed by leaky/);
    await row.locator("summary").click();
    const trap = row.locator(".filter[data-filter='leaky'] .trap");
    assert.match(String(await trap.textContent()), /trap in request_headers.*proxy_on_request_headers.*unreachable/s);
    assert.match(String(await row.locator(".filter[data-filter='leaky'] .log").first().textContent()), /^error.*unreachable/);
    // The README's picture: the trap open, the local reply closed, the leak alarm on the right.
    await page.locator(".request[data-status='403'] > summary").click();
    await page.locator(".request[data-status='403']:not([open])").waitFor();
    const shot = join(dir, "inspector.png");
    await page.screenshot({ path: shot });
    assert.ok(statSync(shot).size > 10_000);
    console.log(`# screenshot: ${shot}`);
    assert.deepEqual(errors, []);
  });
});
