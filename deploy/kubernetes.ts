// Kubernetes names and labels, checked before they reach a cluster that would refuse them.

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function checkName(what: string, name: string): string {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new Error(`bad ${what} "${name}": lower-case letters, digits, "-" and "." (a Kubernetes resource name)`);
  }
  return name;
}

/** `k=v` pairs into a label map. */
export function parseLabels(pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (eq <= 0 || !LABEL_KEY.test(key)) throw new Error(`bad label "${pair}": expected key=value`);
    if (value.length > 63 || !LABEL_VALUE.test(value)) throw new Error(`bad label value in "${pair}"`);
    labels[key] = value;
  }
  return labels;
}

export function metadata(name: string, namespace?: string): { name: string; namespace?: string } {
  return { name: checkName("name", name), ...(namespace ? { namespace: checkName("namespace", namespace) } : {}) };
}
