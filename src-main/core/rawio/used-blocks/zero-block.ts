/** Whether a buffer holds only zero bytes (an SD image's free space is mostly zero blocks). */
export function isZero(buf: Buffer): boolean {
  // Compare 8 bytes at a time.
  const words = Math.floor(buf.length / 8);
  for (let i = 0; i < words; i++) if (buf.readBigUInt64LE(i * 8) !== 0n) return false;
  for (let i = words * 8; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
