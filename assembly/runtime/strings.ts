// String operations the SDK needs often but briefly: std's versions are built for long strings and
// cost every plugin more code than they save time on names and ids.

/** `a == b`: std's `==` compares word by word in 190 bytes of code; names are short. */
export function sameString(a: string, b: string): bool {
  const size = <usize>a.length << 1;
  if (size != <usize>b.length << 1) return false;
  const left = changetype<usize>(a);
  const right = changetype<usize>(b);
  for (let offset: usize = 0; offset < size; offset += 2) {
    if (load<u16>(left + offset) != load<u16>(right + offset)) return false;
  }
  return true;
}
