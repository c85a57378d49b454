// Text a registry controls (media types, annotations, error messages, tar names) is escaped before it
// reaches a terminal: control characters could otherwise move the cursor, recolour or hide output.

/** C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
