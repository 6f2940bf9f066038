/** Whether a buffer holds only zero bytes (an SD image's free space is mostly zero blocks). */

/** Zeros to compare with: one native memcmp per MiB instead of a loop over the bytes in JS. */
const ZEROS = Buffer.alloc(1024 * 1024);

export function isZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZEROS.length) {
    const n = Math.min(ZEROS.length, buf.length - off);
    if (!buf.subarray(off, off + n).equals(n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n))) return false;
  }
  return true;
}
