/**
 * Decompression in this process, with no external tool (stock macOS has no xz, zstd or pigz, and
 * an app started from Finder or the root helper does not see Homebrew's PATH):
 *   .xz   xz-embedded (WebAssembly, xz-decompress), built with a 64 MiB dictionary limit
 *   .zst  fzstd (plain JavaScript), each frame's window checked before the decoder sees it
 *   .gz   Node's zlib
 * The decoders hold at most their dictionary or window (see decoder-limits.ts).
 */
import { createReadStream } from 'node:fs';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import xzDecompress from 'xz-decompress';
import { Decompress as ZstdDecompress } from 'fzstd';
import { AtlasError } from '../errors.js';
import { ZSTD_WINDOW_CAP, xzDictTooLarge, zstdWindowTooLarge } from './decoder-limits.js';
import { ZstdFrameWatch, ZstdFormatError } from './zstd-format.js';
import { basename } from 'node:path';

export interface DecompressStream {
  stream: Readable;
  /** Resolves when the whole file was decoded (or the stream was stopped); rejects when it is corrupt. */
  done: Promise<void>;
  kill(): void;
}

export type InProcessKind = 'xz' | 'gz' | 'zst';

/** xz-embedded's results (xz.h, enum xz_ret), as xz-decompress reports them. */
const XZ_RESULTS: Record<number, string> = {
  2: 'it uses an integrity check this decoder does not know',
  3: 'out of memory',
  5: 'it is not an .xz file',
  6: 'it uses options this decoder does not support',
  7: 'its compressed data is damaged',
  8: 'it ends early',
};

/** A decoder's failure as an AtlasError that says what is wrong with the file. */
function decodeError(path: string, kind: InProcessKind, e: unknown): AtlasError {
  if (e instanceof AtlasError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = /error code (\d+)/.exec(message);
  if (kind === 'xz' && code?.[1] === '4') return xzDictTooLarge(path);
  const why =
    kind === 'xz' && code
      ? (XZ_RESULTS[Number(code[1])] ?? message)
      : kind === 'zst' && (e as { code?: number }).code === 5
        ? 'it ends early'
        : message;
  return new AtlasError(
    'bad-input',
    `${basename(path)} could not be decompressed: ${why}`,
    'the download is incomplete or damaged: download it again',
  );
}

function xzStream(file: Readable): Readable {
  const web = new xzDecompress.XzReadableStream(
    Readable.toWeb(file) as unknown as ReadableStream<Uint8Array>,
  );
  return Readable.fromWeb(web as unknown as WebReadableStream<Uint8Array>, { highWaterMark: 4 });
}

/** fzstd behind a watch that refuses a frame whose window is over the cap, before fzstd reads it. */
function zstdStream(path: string): Transform {
  const watch = new ZstdFrameWatch((h) => {
    if (h.windowBytes > ZSTD_WINDOW_CAP) throw zstdWindowTooLarge(path, h.windowBytes);
  });
  let push: (b: Buffer) => void = () => undefined;
  const decoder = new ZstdDecompress((chunk) =>
    push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)),
  );
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        watch.push(chunk);
        decoder.push(chunk);
        cb();
      } catch (e) {
        cb(e instanceof ZstdFormatError ? new Error(e.message) : (e as Error));
      }
    },
    flush(cb: TransformCallback) {
      try {
        decoder.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  push = (b) => {
    if (b.length > 0) t.push(b);
  };
  return t;
}

/**
 * Decodes `source` (a path, or a stream of the file already opened) in this process. `expectBytes`
 * (the size the file records) is checked at the end, so a stream that stops early (a second .xz
 * stream after the first) is an error, not a short image. `name` is the file's name in messages.
 */
export function decompressInProcess(
  source: string | Readable,
  kind: InProcessKind,
  expectBytes?: number,
  name: string = typeof source === 'string' ? source : 'the image',
): DecompressStream {
  const path = name;
  const file = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1024 * 1024 }) : source;
  const dec = kind === 'xz' ? xzStream(file) : file.pipe(kind === 'gz' ? createGunzip() : zstdStream(path));
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let settled = false;
  let resolveDone!: () => void;
  let rejectDone!: (e: AtlasError) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined);
  const fail = (e: unknown) => {
    if (settled) return;
    settled = true;
    const err = decodeError(path, kind, e);
    rejectDone(err);
    out.destroy(err);
    file.destroy();
  };
  let n = 0;
  file.on('error', fail);
  dec.on('error', fail);
  dec.on('data', (chunk: Buffer) => {
    n += chunk.length;
    if (!out.write(chunk)) {
      dec.pause();
      out.once('drain', () => dec.resume());
    }
  });
  dec.on('end', () => {
    if (expectBytes !== undefined && n !== expectBytes) {
      return fail(new Error(`it decodes to ${n} bytes where it records ${expectBytes}`));
    }
    if (settled) return;
    settled = true;
    resolveDone();
    out.end();
  });
  return {
    stream: out,
    done,
    kill: () => {
      if (!settled) {
        settled = true;
        resolveDone();
      }
      dec.destroy();
      file.destroy();
      out.destroy();
    },
  };
}
