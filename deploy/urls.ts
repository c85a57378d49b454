// Where a module comes from, checked before it is written into a resource: a url with a space or a
// newline in it parses (the WHATWG parser drops newlines and escapes spaces) but names another place
// than the one the user typed, so each scheme gets its own strict grammar.

export type Scheme = "oci" | "https" | "http" | "file";

// distribution/reference's grammar, which Istio's and Envoy Gateway's fetchers parse the reference with.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "sha256:[a-f0-9]{64}";
const OCI_REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@(${DIGEST}))?$`);

// RFC 3986's characters; everything else (spaces, controls, quotes, non-ASCII) must be percent-encoded.
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

const SCHEME_NAMES: Record<Scheme, string> = { oci: "oci://", https: "https://", http: "http://", file: "file://" };

function expected(allowed: readonly Scheme[]): string {
  return allowed.map((scheme) => SCHEME_NAMES[scheme]).join(", ");
}

export interface CheckedUrl {
  url: string;
  scheme: Scheme;
  /** For oci://: the reference without the scheme. */
  reference?: string;
  /** For oci:// pinned by digest: the manifest digest's hex. */
  digest?: string;
}

function checkOci(url: string, bad: (why: string) => Error): CheckedUrl {
  const reference = url.slice("oci://".length);
  const match = OCI_REFERENCE.exec(reference);
  if (!match || match[1].length > 255) throw bad("not an image reference (REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST])");
  return { url, scheme: "oci", reference, digest: match[2]?.slice("sha256:".length) };
}

function checkHttp(url: string, scheme: Scheme, bad: (why: string) => Error): CheckedUrl {
  if (!URI_CHARACTERS.test(url) || /%(?![0-9A-Fa-f]{2})/.test(url)) {
    throw bad("spaces, control characters and other characters outside RFC 3986 must be percent-encoded");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("not a url");
  }
  if (scheme === "file") {
    if (parsed.host !== "") throw bad("a file:// url names a path on the proxy: file:///path/to/plugin.wasm");
    if (parsed.pathname === "/" || parsed.pathname.endsWith("/")) throw bad("it names a folder, not a .wasm file");
    // The proxy opens the decoded path; an encoded control character would reach its file system.
    let path: string;
    try {
      path = decodeURIComponent(parsed.pathname);
    } catch {
      throw bad("its path is not percent-encoded UTF-8");
    }
    if (/[\x00-\x1f\x7f]/.test(path)) throw bad("its path holds an encoded control character");
    return { url, scheme };
  }
  if (parsed.hostname === "") throw bad("it has no host");
  if (parsed.username || parsed.password) throw bad("credentials in a url end up in the resource for all to read; leave them out");
  return { url, scheme };
}

/** A url quoted for an error message: controls, and anything outside printable ASCII, as \\uXXXX escapes. */
export function quoteUrl(url: string): string {
  return JSON.stringify(url).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Checks a module url against the schemes a target accepts; the error names the flag and shows the url escaped. */
export function checkModuleUrl(url: string, allowed: readonly Scheme[], flag = "--url"): CheckedUrl {
  const bad = (why: string) => new Error(`bad ${flag} ${quoteUrl(url)}: ${why}`);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1].toLowerCase();
  if (!scheme) throw bad(`expected ${expected(allowed)}`);
  if (!allowed.includes(scheme as Scheme)) throw bad(`the scheme must be one of ${expected(allowed)}`);
  if (!url.startsWith(`${scheme}://`)) throw bad("write the scheme in lower case");
  return scheme === "oci" ? checkOci(url, bad) : checkHttp(url, scheme as Scheme, bad);
}

/** A sha256 given as 64 hex digits, with or without the `sha256:` prefix. */
export function checkSha256(value: string | undefined, flag = "--sha256"): string | undefined {
  if (value === undefined) return undefined;
  const hex = value.startsWith("sha256:") ? value.slice("sha256:".length) : value;
  if (!/^[a-f0-9]{64}$/.test(hex)) throw new Error(`bad ${flag} ${JSON.stringify(value)}: 64 lower-case hex digits`);
  return hex;
}

/** --sha256 for an oci:// url pinned by digest must be that digest: Istio compares it with the manifest's. */
export function checkPinned(url: CheckedUrl, sha256: string | undefined): void {
  if (url.digest && sha256 && url.digest !== sha256) {
    throw new Error(`--sha256 ${sha256} contradicts the digest the url pins (sha256:${url.digest})`);
  }
}
