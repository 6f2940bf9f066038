/**
 * The checksums that on-disk structures carry: CRC32C (ext4 metadata_csum) and CRC16 (ext4
 * gdt_csum / uninit_bg). Both are the raw reflected register, without the final inversion, as
 * ext4 stores them; callers pass the initial value (usually 0xffffffff / 0xffff). GPT's CRC32 is
 * zlib's (node:zlib crc32).
 */
function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

const CRC32C = table(0x82f63b78);
const CRC16 = table(0xa001);

export function crc32cRaw(seed: number, data: Uint8Array): number {
  let c = seed >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC32C[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

export function crc16Raw(seed: number, data: Uint8Array): number {
  let c = seed & 0xffff;
  for (let i = 0; i < data.length; i++) c = (CRC16[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)) & 0xffff;
  return c;
}
