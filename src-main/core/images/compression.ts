/**
 * Compressed images (.img.xz, .img.gz, .img.zst) are read through the real decompressors
 * (xz, pigz, zstd) as streams: one wrapper, one table of tools.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { AtlasError } from '../errors.js';
import { runTool } from '../tools/run-tool.js';

export type Compression = 'none' | 'xz' | 'gz' | 'zst';

const MAGIC: Array<[Compression, number[]]> = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gz', [0x1f, 0x8b]],
  ['zst', [0x28, 0xb5, 0x2f, 0xfd]],
];

const DECOMPRESSOR: Record<Exclude<Compression, 'none'>, { cmd: string; args: string[] }> = {
  xz: { cmd: 'xz', args: ['-dc', '-T0', '--'] },
  gz: { cmd: 'pigz', args: ['-dc', '--'] },
  zst: { cmd: 'zstd', args: ['-dc', '-q', '--'] },
};

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

/** The uncompressed size when the format records it (xz does; gzip only modulo 4 GiB). */
export async function uncompressedSize(path: string, kind: Compression): Promise<number | undefined> {
  if (kind === 'xz') {
    const r = await runTool('xz', ['--robot', '--list', '--', path]);
    const totals = r.stdout.split('\n').find((l) => l.startsWith('totals'));
    const n = totals ? Number(totals.split('\t')[4]) : NaN;
    if (r.exitCode !== 0 || !Number.isFinite(n)) {
      throw new AtlasError('bad-input', `${path} is not a valid .xz file`, 'download the image again');
    }
    return n;
  }
  if (kind === 'zst') {
    const r = await runTool('zstd', ['-lv', '--', path]);
    const m = /Decompressed Size:.*\((\d+) B\)/.exec(r.stdout + r.stderr);
    return m ? Number(m[1]) : undefined;
  }
  return undefined;
}

export interface DecompressStream {
  stream: Readable;
  /** Resolves when the decompressor exited; rejects when it failed (corrupt input). */
  done: Promise<void>;
  kill(): void;
}

export function decompress(path: string, kind: Exclude<Compression, 'none'>): DecompressStream {
  const { cmd, args } = DECOMPRESSOR[kind];
  // node:child_process keeps stdout paused until it is read, so no output is lost before the
  // consumer starts; stderr is kept for the error message.
  const child = spawn(cmd, [...args, path], { stdio: ['ignore', 'pipe', 'pipe'] });
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
        new AtlasError(
          'bad-input',
          `${path} could not be decompressed (${cmd} ${signal ? `killed by ${signal}` : `exit ${code}`}): ${stderr.trim()}`,
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
      child.kill('SIGTERM');
    },
  };
}
