// Issue 14 item 13: a module url with a newline or a space parsed, and the WHATWG parser silently
// turned it into another url. Each scheme now has a strict grammar and the error shows the url escaped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkModuleUrl, checkSha256, quoteUrl } from "../../deploy/urls.js";

const ALL = ["oci", "https", "http", "file"] as const;

describe("module urls", () => {
  it("accepts what Istio, Envoy Gateway and Envoy fetch", () => {
    for (const url of [
      "oci://ghcr.io/me/filter:v1",
      `oci://ghcr.io/me/filter@sha256:${"a".repeat(64)}`,
      `oci://127.0.0.1:5000/team/sub/filter:1.0.0-rc.1@sha256:${"b".repeat(64)}`,
      "oci://localhost:5000/filter",
      "oci://docker.io/library/filter_name__x:latest",
      "https://example.com/filters/plugin.wasm",
      "https://example.com:8443/a%20b/plugin.wasm?version=2#x",
      "http://[::1]:8080/plugin.wasm",
      "file:///var/local/wasm/plugin.wasm",
    ]) {
      assert.equal(checkModuleUrl(url, ALL).url, url, url);
    }
    assert.equal(checkModuleUrl(`oci://ghcr.io/me/f:v1@sha256:${"c".repeat(64)}`, ALL).digest, "c".repeat(64));
  });

  it("refuses whitespace and control characters anywhere, showing them escaped", () => {
    for (const [url, shown] of [
      ["oci://ghcr.io/me/filter:v1\n", String.raw`"oci://ghcr.io/me/filter:v1\n"`],
      ["oci://ghcr.io/me/fil ter:v1", `"oci://ghcr.io/me/fil ter:v1"`],
      ["oci://ghcr.io/me/filter:v1\tx", String.raw`"oci://ghcr.io/me/filter:v1\tx"`],
      ["https://example.com/plugin.wasm\r\nX-Injected: 1", String.raw`"https://example.com/plugin.wasm\r\nX-Injected: 1"`],
      ["https://exa mple.com/plugin.wasm", `"https://exa mple.com/plugin.wasm"`],
      ["https://example.com/p lugin.wasm", `"https://example.com/p lugin.wasm"`],
      [" https://example.com/plugin.wasm", `" https://example.com/plugin.wasm"`],
      ["file:///var/plugin\u0000.wasm", String.raw`"file:///var/plugin\u0000.wasm"`],
      ["https://example.com/plügin.wasm", String.raw`"https://example.com/pl\u00fcgin.wasm"`],
      ["https://example.com/p\u2028.wasm", String.raw`"https://example.com/p\u2028.wasm"`],
    ]) {
      assert.throws(() => checkModuleUrl(url, ALL), (error: Error) => {
        assert.ok(error.message.startsWith(`bad --url ${shown}: `), error.message);
        assert.ok(!error.message.includes("\n") && !error.message.includes("\r"), "the message stays on one line");
        return true;
      });
    }
  });

  it("refuses what each scheme's grammar forbids", () => {
    const refuses = (url: string, reason: RegExp) => assert.throws(() => checkModuleUrl(url, ALL), reason, url);
    refuses("ghcr.io/me/filter:v1", /expected oci:\/\/, https:\/\/, http:\/\/, file:\/\//);
    refuses("ftp://example.com/p.wasm", /the scheme must be one of/);
    refuses("OCI://ghcr.io/me/f:v1", /lower case/);
    refuses("oci://ghcr.io/Me/filter:v1", /not an image reference/);
    refuses("oci://ghcr.io/me/filter:v1@sha256:abc", /not an image reference/);
    refuses("oci://ghcr.io/me/filter:-bad", /not an image reference/);
    refuses("oci://", /not an image reference/);
    refuses("https://", /not a url|no host/);
    refuses("https://user:secret@example.com/p.wasm", /credentials in a url/);
    refuses("https://example.com/%zz.wasm", /percent-encoded/);
    refuses("file://host/p.wasm", /file:\/\/\/path/);
    refuses("file:///var/wasm/", /names a folder/);
    refuses("file:///var/plugin%0A.wasm", /encoded control character/);
    refuses("file:///var/plugin%FF.wasm", /not percent-encoded UTF-8/);
  });

  it("keeps to the schemes a target allows", () => {
    assert.throws(() => checkModuleUrl("file:///p.wasm", ["oci", "https", "http"]), /the scheme must be one of oci:\/\/, https:\/\/, http:\/\//);
    assert.throws(() => checkModuleUrl("oci://a.io/b:c", ["https", "http", "file"], "--url"), /the scheme must be one of https:\/\/, http:\/\/, file:\/\//);
  });

  it("reads a sha256 with or without its prefix", () => {
    assert.equal(checkSha256("sha256:" + "a".repeat(64)), "a".repeat(64));
    assert.equal(checkSha256(undefined), undefined);
    assert.throws(() => checkSha256("A".repeat(64)), /bad --sha256 "A+": 64 lower-case hex digits/);
    assert.throws(() => checkSha256("a".repeat(64) + "\n"), /bad --sha256 "a+\\n"/);
  });

  it("never accepts a url holding whitespace or a control character, and always says why on one line", () => {
    const valid = fc.constantFrom(
      "oci://ghcr.io/me/filter:v1",
      `oci://localhost:5000/a/b@sha256:${"e".repeat(64)}`,
      "https://example.com/p.wasm?x=1",
      "http://10.0.0.1:8080/p.wasm",
      "file:///var/p.wasm",
    );
    const bad = fc.constantFrom(" ", "\t", "\n", "\r", "\u0000", "\u007f", "\u00a0", "\u2028", "\u000b", "\u000c");
    fc.assert(
      fc.property(valid, bad, fc.nat(), (url, character, at) => {
        const index = at % (url.length + 1);
        const broken = url.slice(0, index) + character + url.slice(index);
        try {
          checkModuleUrl(broken, ALL);
        } catch (error) {
          return error instanceof Error && error.message.startsWith(`bad --url ${quoteUrl(broken)}: `) && /^[\x20-\x7e]*$/.test(error.message);
        }
        return false;
      }),
      { numRuns: 2000 },
    );
  });
});
