// How generated resources are printed: YAML documents separated by ---, or JSON for --json.
import { stringify } from "yaml";

export function formatDocuments(documents: unknown[], json = false): string {
  if (json) return JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2) + "\n";
  // lineWidth 0: never fold long strings such as JSON configuration into several lines.
  return documents.map((document) => stringify(document, { lineWidth: 0 })).join("---\n");
}
