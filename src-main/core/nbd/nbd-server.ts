/**
 * A Network Block Device server for one export over one byte stream (any Readable/Writable pair:
 * pipes, a UNIX socket; never a network port), as the raw-disk helper serves a card to the
 * builder VM's nbd-client. It speaks the fixed newstyle handshake of the NBD protocol
 * (github.com/NetworkBlockDevice/nbd, doc/proto.md):
 *   server: "NBDMAGIC" "IHAVEOPT" handshake flags (FIXED_NEWSTYLE | NO_ZEROES)
 *   client: its flags, then options: EXPORT_NAME, GO and INFO are answered with the export's size,
 *           transmission flags and block sizes; ABORT ends the session; anything else gets
 *           NBD_REP_ERR_UNSUP (the client may go on)
 *   then commands: READ, WRITE (refused with EPERM on a read-only export), FLUSH, DISC. TRIM,
 *           WRITE_ZEROES and the rest get EINVAL. Every request is bounds-checked against the
 *           export size, so no byte outside it is ever read or written (EINVAL for a read,
 *           ENOSPC for a write past the end), and bounded in size (larger ones end the session:
 *           the stream cannot be trusted any more).
 * Requests are served one at a time, in order; the counts of bytes read and written are kept.
 */
import type { Readable, Writable } from 'node:stream';
import { u16, u32, u64 } from './nbd-wire.js';
import { readExactly, writeAll } from '../file-io.js';

/** What the export is backed by (a card, a file). Offsets and lengths are always in bounds. */
export interface NbdBackend {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  flush(): Promise<void>;
}

export interface NbdServeOptions {
  writable: boolean;
  /** The largest READ or WRITE accepted (default 32 MiB, the Linux client's largest request). */
  maxRequest?: number;
  /** The export name the client must ask for ('' or the name; default any name). */
  exportName?: string;
  /** Stops serving (the stream is left to the caller). */
  signal?: AbortSignal;
  /** After each request, with the totals so far. */
  onProgress?: (stats: NbdStats) => void;
}

export interface NbdStats {
  readBytes: number;
  writtenBytes: number;
  requests: number;
}

export type NbdEnd =
  | 'disconnect' // NBD_CMD_DISC: the client is done
  | 'abort' // NBD_OPT_ABORT during the handshake
  | 'closed' // the stream ended
  | 'cancelled'; // the signal

export interface NbdResult extends NbdStats {
  end: NbdEnd;
}

export class NbdProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NbdProtocolError';
  }
}

// Protocol constants (doc/proto.md).
const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = Buffer.from('IHAVEOPT');
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const REQUEST_MAGIC = 0x25609513;
const SIMPLE_REPLY_MAGIC = 0x67446698;
const FLAG_FIXED_NEWSTYLE = 1 << 0;
const FLAG_NO_ZEROES = 1 << 1;
const FLAG_C_FIXED_NEWSTYLE = 1 << 0;
const FLAG_C_NO_ZEROES = 1 << 1;
const TFLAG_HAS_FLAGS = 1 << 0;
const TFLAG_READ_ONLY = 1 << 1;
const TFLAG_SEND_FLUSH = 1 << 2;
export const NBD_OPT = { EXPORT_NAME: 1, ABORT: 2, LIST: 3, INFO: 6, GO: 7 } as const;
const REP_ACK = 1;
const REP_INFO = 3;
const REP_ERR_UNSUP = (1 << 31) | 1;
const REP_ERR_INVALID = (1 << 31) | 3;
const REP_ERR_UNKNOWN = (1 << 31) | 6;
const INFO_EXPORT = 0;
const INFO_BLOCK_SIZE = 3;
export const NBD_CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, WRITE_ZEROES: 6 } as const;
export const NBD_ERR = { EPERM: 1, EIO: 5, EINVAL: 22, ENOSPC: 28 } as const;
/** Option data longer than this is not an option any client sends. */
const MAX_OPTION = 4096;
const MAX_REQUEST = 32 * 1024 * 1024;

/** Reads exact byte counts from a stream (pausing it while nobody waits). */
class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failed: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly input: Readable) {
    input.on('data', (c: Buffer) => {
      this.chunks.push(c);
      this.buffered += c.length;
      if (this.buffered > 2 * MAX_REQUEST) input.pause();
      this.notify();
    });
    input.on('end', () => {
      this.ended = true;
      this.notify();
    });
    input.on('close', () => {
      this.ended = true;
      this.notify();
    });
    input.on('error', (e) => {
      this.failed = e;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Wakes a waiting read (to see a cancellation). */
  interrupt(): void {
    this.notify();
  }

  /** Exactly n bytes, or undefined when the stream ended first (or `stop()` says so). */
  async read(n: number, stop: () => boolean): Promise<Buffer | undefined> {
    while (this.buffered < n) {
      if (this.failed) throw this.failed;
      if (this.ended || stop()) return undefined;
      this.input.resume();
      await new Promise<void>((r) => (this.wake = r));
    }
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  detach(): void {
    this.input.removeAllListeners('data');
    this.input.pause();
  }
}

function write(output: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    output.write(data, (e) => (e ? reject(e) : resolve()));
  });
}

/** Serves the export until the client disconnects, the stream ends, or the signal. */
export async function serveNbd(
  input: Readable,
  output: Writable,
  backend: NbdBackend,
  options: NbdServeOptions,
): Promise<NbdResult> {
  const maxRequest = Math.min(options.maxRequest ?? MAX_REQUEST, MAX_REQUEST);
  const stats: NbdStats = { readBytes: 0, writtenBytes: 0, requests: 0 };
  const reader = new StreamReader(input);
  const stop = () => options.signal?.aborted === true;
  const onAbort = () => reader.interrupt();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const done = (end: NbdEnd): NbdResult => ({ ...stats, end: stop() ? 'cancelled' : end });
  const transmissionFlags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | (options.writable ? 0 : TFLAG_READ_ONLY);
  try {
    // ---- handshake
    await write(output, Buffer.concat([NBDMAGIC, IHAVEOPT, u16(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)]));
    const cflagsBuf = await reader.read(4, stop);
    if (!cflagsBuf) return done('closed');
    const cflags = cflagsBuf.readUInt32BE(0);
    if (!(cflags & FLAG_C_FIXED_NEWSTYLE) || cflags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) {
      throw new NbdProtocolError(`the client's flags ${cflags} are not fixed newstyle`);
    }
    const noZeroes = (cflags & FLAG_C_NO_ZEROES) !== 0;
    const optReply = (opt: number, type: number, data: Buffer = Buffer.alloc(0)) =>
      write(output, Buffer.concat([u64(OPT_REPLY_MAGIC), u32(opt), u32(type), u32(data.length), data]));
    const exportInfo = () => Buffer.concat([u16(INFO_EXPORT), u64(backend.size), u16(transmissionFlags)]);
    const blockInfo = () => Buffer.concat([u16(INFO_BLOCK_SIZE), u32(1), u32(4096), u32(maxRequest)]);
    const nameOk = (name: string) => options.exportName === undefined || name === options.exportName;
    for (;;) {
      const head = await reader.read(16, stop);
      if (!head) return done('closed');
      if (!head.subarray(0, 8).equals(IHAVEOPT)) throw new NbdProtocolError('an option without IHAVEOPT');
      const opt = head.readUInt32BE(8);
      const len = head.readUInt32BE(12);
      if (len > MAX_OPTION) throw new NbdProtocolError(`option ${opt} carries ${len} bytes`);
      const data = len ? await reader.read(len, stop) : Buffer.alloc(0);
      if (!data) return done('closed');
      if (opt === NBD_OPT.EXPORT_NAME) {
        if (!nameOk(data.toString('utf8'))) throw new NbdProtocolError('no such export');
        await write(
          output,
          Buffer.concat([
            u64(backend.size),
            u16(transmissionFlags),
            noZeroes ? Buffer.alloc(0) : Buffer.alloc(124),
          ]),
        );
        break;
      }
      if (opt === NBD_OPT.ABORT) {
        await optReply(opt, REP_ACK).catch(() => undefined);
        return done('abort');
      }
      if (opt === NBD_OPT.GO || opt === NBD_OPT.INFO) {
        // name length (4), name, count of info requests (2), the requests (2 each)
        const nameLen = data.length >= 4 ? data.readUInt32BE(0) : -1;
        if (nameLen < 0 || 4 + nameLen + 2 > data.length) {
          await optReply(opt, REP_ERR_INVALID);
          continue;
        }
        if (!nameOk(data.subarray(4, 4 + nameLen).toString('utf8'))) {
          await optReply(opt, REP_ERR_UNKNOWN);
          continue;
        }
        await optReply(opt, REP_INFO, exportInfo());
        await optReply(opt, REP_INFO, blockInfo());
        await optReply(opt, REP_ACK);
        if (opt === NBD_OPT.GO) break;
        continue;
      }
      await optReply(opt, REP_ERR_UNSUP);
    }

    // ---- transmission
    const reply = (handle: Buffer, error: number, data?: Buffer) =>
      write(
        output,
        data
          ? Buffer.concat([u32(SIMPLE_REPLY_MAGIC), u32(error), handle, data])
          : Buffer.concat([u32(SIMPLE_REPLY_MAGIC), u32(error), handle]),
      );
    for (;;) {
      const req = await reader.read(28, stop);
      if (!req) return done('closed');
      if (req.readUInt32BE(0) !== REQUEST_MAGIC) throw new NbdProtocolError('a request without its magic');
      const type = req.readUInt16BE(6);
      const handle = Buffer.from(req.subarray(8, 16));
      const offsetBig = req.readBigUInt64BE(16);
      const length = req.readUInt32BE(24);
      const inBounds = offsetBig + BigInt(length) <= BigInt(backend.size);
      const offset = Number(offsetBig);
      stats.requests++;
      if (type === NBD_CMD.DISC) return done('disconnect');
      if (type === NBD_CMD.READ) {
        if (length > maxRequest) throw new NbdProtocolError(`a read of ${length} bytes`);
        if (!inBounds || length === 0) {
          await reply(handle, NBD_ERR.EINVAL);
          continue;
        }
        let data: Buffer;
        try {
          data = await backend.read(offset, length);
        } catch {
          await reply(handle, NBD_ERR.EIO);
          continue;
        }
        stats.readBytes += length;
        await reply(handle, 0, data);
      } else if (type === NBD_CMD.WRITE) {
        // The payload follows the request whatever the answer: it is read (bounded) first.
        if (length > maxRequest) throw new NbdProtocolError(`a write of ${length} bytes`);
        const data = await reader.read(length, stop);
        if (!data) return done('closed');
        if (!options.writable) {
          await reply(handle, NBD_ERR.EPERM);
          continue;
        }
        if (!inBounds) {
          await reply(handle, NBD_ERR.ENOSPC);
          continue;
        }
        try {
          await backend.write(offset, data);
        } catch {
          await reply(handle, NBD_ERR.EIO);
          continue;
        }
        stats.writtenBytes += length;
        await reply(handle, 0);
      } else if (type === NBD_CMD.FLUSH) {
        try {
          await backend.flush();
          await reply(handle, 0);
        } catch {
          await reply(handle, NBD_ERR.EIO);
        }
      } else {
        // TRIM, WRITE_ZEROES, CACHE, BLOCK_STATUS: not offered, so not accepted. A WRITE_ZEROES
        // or TRIM carries no payload, so the stream stays in step.
        await reply(handle, NBD_ERR.EINVAL);
      }
      options.onProgress?.({ ...stats });
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    reader.detach();
  }
}

/** A backend over an open file handle (a card device, an image file). */
export function handleBackend(
  fh: {
    read(b: Buffer, o: number, l: number, p: number): Promise<{ bytesRead: number }>;
    write(b: Buffer, o: number, l: number, p: number): Promise<{ bytesWritten: number }>;
    sync(): Promise<void>;
  },
  size: number,
): NbdBackend {
  return {
    size,
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      const done = await readExactly(fh, buf, offset);
      if (done < length) throw new Error(`the export ended at ${offset + done}`);
      return buf;
    },
    write: (offset, data) => writeAll(fh, data, offset),
    flush: () => fh.sync(),
  };
}
