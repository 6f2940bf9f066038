/**
 * Compressed images (.img.xz, .img.gz, .img.zst) are read as streams, and a distributable is
 * written by xz or zstd: one wrapper, one table of tools.
 *
 * Decoding needs no tool that macOS lacks: on a Mac (and wherever the tool is missing) it runs in
 * this process (in-process-decoders.ts); on Linux the faster xz, pigz and zstd are used when
 * installed, each with a memory limit. Either way the file's own structure is read first
 * (xz-format.ts, zstd-format.ts): its size, and the dictionary or window the decoder must hold,
 * refused over the caps of decoder-limits.ts before anything is decoded or written.
 */
import { DIST_COMPRESSIONS, type DistCompression } from '../../common/results.js';
import { createHash } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { AtlasError, CancelledError, toAtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import {
  TOOL_MEMORY_LIMIT,
  XZ_DICT_CAP,
  ZSTD_WINDOW_CAP,
  notCompressedAs,
  xzDictTooLarge,
  zstdWindowTooLarge,
} from './decoder-limits.js';
import { decompressInProcess, type DecompressStream } from './in-process-decoders.js';
import { readXzLayout, XzFormatError } from './xz-format.js';
import { readZstdLayout, ZstdFormatError } from './zstd-format.js';

export type { DecompressStream };

export type Compression = 'none' | 'xz' | 'gz' | 'zst';

const MAGIC: Array<[Compression, number[]]> = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gz', [0x1f, 0x8b]],
  ['zst', [0x28, 0xb5, 0x2f, 0xfd]],
];

const DECOMPRESSOR: Record<Exclude<Compression, 'none'>, { cmd: string; args: string[] }> = {
  xz: { cmd: 'xz', args: ['-dc', '-T0', `--memlimit=${TOOL_MEMORY_LIMIT}`, '--'] },
  gz: { cmd: 'pigz', args: ['-dc', '--'] },
  // -f: the raw-disk helper names the image it opened as /proc/PID/fd/N, a link zstd skips without it
  zst: { cmd: 'zstd', args: ['-dcf', '-q', `--memory=${TOOL_MEMORY_LIMIT}`, '--'] },
};

/** Whether `cmd` is an executable in one of PATH's folders. */
function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** Where a compressed image is decoded: by the installed tool (Linux only) or in this process. */
export function decoderEngine(
  kind: Exclude<Compression, 'none'>,
  platform: NodeJS.Platform = process.platform,
): 'tool' | 'in-process' {
  return platform === 'linux' && onPath(DECOMPRESSOR[kind].cmd) ? 'tool' : 'in-process';
}

export async function detectCompression(path: string): Promise<Compression> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    await fh.read(buf, 0, 8, 0);
    for (const [kind, magic] of MAGIC) {
      if (magic.every((b, i) => buf[i] === b)) return kind;
    }
    return 'none';
  } finally {
    await fh.close();
  }
}

/**
 * The uncompressed size when the format records it (xz does; zstd when every frame does; gzip only
 * modulo 4 GiB, so never). Reads the file's structure, and refuses a file whose decoder would need
 * more memory than allowed (an .xz's dictionary, a .zst's window): the check every write, insert
 * and inspect makes before it decodes anything.
 */
export async function uncompressedSize(
  path: string,
  kind: Compression,
  name: string = path,
): Promise<number | undefined> {
  if (kind !== 'xz' && kind !== 'zst') return undefined;
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (kind === 'xz') {
      const layout = await readXzLayout(fh, size);
      if (layout.dictBytes > XZ_DICT_CAP) throw xzDictTooLarge(name, layout.dictBytes);
      return layout.bytes;
    }
    const layout = await readZstdLayout(fh, size);
    if (layout.windowBytes > ZSTD_WINDOW_CAP) throw zstdWindowTooLarge(name, layout.windowBytes);
    return layout.bytes;
  } catch (e) {
    if (e instanceof XzFormatError) throw notCompressedAs(name, '.xz', e.message);
    if (e instanceof ZstdFormatError) throw notCompressedAs(name, '.zst', e.message);
    throw e;
  } finally {
    await fh.close();
  }
}

export interface DecompressOptions {
  /** Where a decompressor tool reads the file (default: path; the raw-disk helper's /proc link). */
  toolPath?: string;
  /** The size the file records: decoding in this process checks it at the end. */
  expectBytes?: number;
}

export function decompress(
  path: string,
  kind: Exclude<Compression, 'none'>,
  opts: DecompressOptions = {},
): DecompressStream {
  if (decoderEngine(kind) === 'in-process') return decompressInProcess(path, kind, opts.expectBytes);
  return decompressWithTool(opts.toolPath ?? path, kind);
}

function decompressWithTool(path: string, kind: Exclude<Compression, 'none'>): DecompressStream {
  const { cmd, args } = DECOMPRESSOR[kind];
  // node:child_process keeps stdout paused until it is read, so no output is lost before the
  // consumer starts; stderr is kept for the error message.
  const child = spawn(cmd, [...args, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  return toolStream(child, cmd, path);
}

/** A decompressor process as a stream of the image, its end judged from its exit and stderr. */
function toolStream(
  child: ChildProcessByStdio<Writable | null, Readable, Readable>,
  cmd: string,
  name: string,
  onKill: () => void = () => undefined,
): DecompressStream {
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  let killedByUs = false;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) =>
      reject(new AtlasError('missing-tool', `${cmd} could not be started: ${e.message}`, `install ${cmd}`)),
    );
    child.on('close', (code, signal) => {
      // A decompressor that died from a signal we did not send produced a truncated stream.
      if (killedByUs || (code === 0 && signal === null)) return resolve();
      reject(
        /memory usage limit|Memory usage limit|memory limit|Window size larger than maximum|Frame requires too much memory/i.test(
          stderr,
        )
          ? new AtlasError(
              'unsupported',
              `${name} needs more memory to be decompressed than the ${TOOL_MEMORY_LIMIT} allowed (${cmd}: ${stderr.trim()})`,
              'nothing more is decoded: compress the image again with a standard level, or decompress it where there is memory for it and use the .img',
            )
          : new AtlasError(
              'bad-input',
              `${name} could not be decompressed (${cmd} ${signal ? `killed by ${signal}` : `exit ${code}`}): ${stderr.trim()}`,
              'the download is probably incomplete or corrupt: download it again',
            ),
      );
    });
  });
  done.catch(() => undefined);
  return {
    stream: child.stdout,
    done,
    kill: () => {
      killedByUs = true;
      onKill();
      child.kill('SIGTERM');
    },
  };
}

/**
 * Decompresses what `input` yields (an image file read through a descriptor already opened and
 * checked): the decompressor, a tool on its stdin or the decoder in this process, never opens a
 * path itself. `name` is the image's name in messages.
 */
export function decompressFrom(
  input: Readable,
  kind: Exclude<Compression, 'none'>,
  name: string,
  opts: Pick<DecompressOptions, 'expectBytes'> = {},
): DecompressStream {
  if (decoderEngine(kind) === 'in-process') return decompressInProcess(input, kind, opts.expectBytes, name);
  const { cmd, args } = DECOMPRESSOR[kind];
  const child = spawn(
    cmd,
    args.filter((a) => a !== '--'),
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  // The decompressor may stop reading (killed once enough was read): that is not an error here.
  child.stdin.on('error', () => undefined);
  input.on('error', () => child.kill('SIGTERM'));
  input.pipe(child.stdin);
  return toolStream(child, cmd, name, () => {
    input.unpipe(child.stdin);
    input.destroy();
  });
}

/** The compression of an image already opened (its first bytes). */
export async function detectCompressionOf(fh: FileHandle): Promise<Compression> {
  const buf = Buffer.alloc(8);
  await fh.read(buf, 0, 8, 0);
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => buf[i] === b)) return kind;
  return 'none';
}

export { DIST_COMPRESSIONS, type DistCompression };

/** The file name suffix of each compression (after .img). */
export const COMPRESSED_SUFFIX: Record<Exclude<Compression, 'none'>, string> = {
  xz: '.xz',
  gz: '.gz',
  zst: '.zst',
};

/** `X.img.zst` -> `X.img`; a name without a compression suffix is kept. */
export function withoutCompressionSuffix(name: string): string {
  return name.replace(/\.(xz|gz|zst)$/i, '');
}

// The sizes are recorded in the output (xz always; zstd through --stream-size), so a flash knows
// the image's size before it decompresses it.
const COMPRESSOR: Record<DistCompression, (bytes: number) => { cmd: string; args: string[] }> = {
  xz: () => ({ cmd: 'xz', args: ['-c', '-T0', '-6'] }),
  zst: (bytes) => ({ cmd: 'zstd', args: ['-c', '-q', '-T0', '-9', `--stream-size=${bytes}`] }),
};

export interface CompressedFile {
  /** Bytes and sha256 of the compressed file. */
  bytes: number;
  sha256: string;
  /** Bytes and sha256 of what was compressed (the image). */
  sourceBytes: number;
  sourceSha256: string;
}

function hashing(hash: ReturnType<typeof createHash>, onData?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      onData?.(chunk.length);
      cb(null, chunk);
    },
  });
}

/**
 * Compresses `src` into `dest` (created 0600, never over an existing file) with xz or zstd. Both
 * sides are hashed as they stream by, so neither file is read twice. Progress: bytes of `src` fed.
 */
export async function compressFile(
  src: string,
  dest: string,
  kind: DistCompression,
  ctx: JobContext,
): Promise<CompressedFile> {
  if (ctx.signal.aborted) throw new CancelledError();
  const { size } = await stat(src);
  const { cmd, args } = COMPRESSOR[kind](size);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', (e) =>
      reject(new AtlasError('missing-tool', `${cmd} could not be started: ${e.message}`, `install ${cmd}`)),
    );
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            ctx.signal.aborted
              ? new CancelledError()
              : new AtlasError(
                  'tool-failed',
                  `${cmd} could not compress the image (${signal ? `killed by ${signal}` : `exit ${code}`}): ${stderr.trim()}`,
                  'check the free space of the output folder, then shrink again',
                ),
          ),
    );
  });
  exited.catch(() => undefined);
  const onAbort = () => child.kill('SIGTERM');
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const inHash = createHash('sha256');
  const outHash = createHash('sha256');
  let fed = 0;
  let written = 0;
  try {
    await Promise.all([
      pipeline(
        createReadStream(src, { highWaterMark: 1024 * 1024 }),
        hashing(inHash, (n) => {
          fed += n;
          ctx.progress(fed, size);
        }),
        child.stdin,
      ),
      pipeline(
        child.stdout,
        hashing(outHash, (n) => (written += n)),
        createWriteStream(dest, { flags: 'wx', mode: 0o600 }),
      ),
      exited,
    ]);
  } catch (e) {
    child.kill('SIGTERM');
    if (ctx.signal.aborted) throw new CancelledError();
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC') throw toAtlasError(e);
    throw await exited.then(
      () => e,
      (err: unknown) => err,
    );
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  return {
    bytes: written,
    sha256: outHash.digest('hex'),
    sourceBytes: fed,
    sourceSha256: inHash.digest('hex'),
  };
}
