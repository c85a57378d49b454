// The WWW-Authenticate challenge of a registry's 401 (RFC 7235; distribution docs/spec/auth/token.md):
// `Basic realm="..."` or `Bearer realm="...",service="...",scope="..."`.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const param = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = param.exec(match[2]); m; m = param.exec(match[2])) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  return { scheme: match[1].toLowerCase(), params };
}
