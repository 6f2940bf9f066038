/**
 * Positioned reads and writes that go on until every byte asked for is done: a read or write of a
 * file or device may move fewer bytes than asked (a pipe, a signal, a device's own limits). Every
 * copy, block-map check, image header read and card write in the core goes through these two. They
 * sit at the bottom of the core so that every layer (the image formats too) can use them.
 */

/** A file handle, or anything read like one (a card opened in whole sectors, aligned-io.ts). */
export interface PositionedReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

export interface PositionedWriter {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

/**
 * Reads `buffer.length` bytes at `position` into `buffer`. Returns how many were read: fewer only
 * where the file ends (the caller says what a short read means).
 */
export async function readExactly(fh: PositionedReader, buffer: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < buffer.length) {
    const { bytesRead } = await fh.read(buffer, got, buffer.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Writes all of `data` at `position`. */
export async function writeAll(fh: PositionedWriter, data: Buffer, position: number): Promise<void> {
  let put = 0;
  while (put < data.length)
    put += (await fh.write(data, put, data.length - put, position + put)).bytesWritten;
}

/** `length` bytes at `position`; where the file ends first, throws what `short` makes. */
export async function readAt(
  fh: PositionedReader,
  position: number,
  length: number,
  short: () => Error,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  if ((await readExactly(fh, buf, position)) < length) throw short();
  return buf;
}
