// What Envoy accepts in a header, for filters that take names and values from configuration or
// from a request: check before adding, rather than have the stream reset later.

/** RFC 9110 tchar (ALPHA, DIGIT and !#$%&'*+-.^_`|~), one bit per ASCII code. */
const TOKEN_CHARS = memory.data<u32>([0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff]);

/** A header name: a non-empty RFC 9110 token (lower case, as HTTP/2 requires, is up to the caller). */
export function isValidHeaderName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = <u32>name.charCodeAt(i);
    if (c >= 0x80 || !(load<u32>(TOKEN_CHARS + ((c >> 5) << 2)) & (1 << (c & 31)))) return false;
  }
  return true;
}

/** A header value: no control characters but tab (Envoy rejects NUL, CR and LF outright). */
export function isValidHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}
