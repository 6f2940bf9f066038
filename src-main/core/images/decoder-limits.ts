/**
 * How much memory a decoder may take, and the checks that refuse a compressed image needing more
 * before anything is decoded or written: an .xz's largest dictionary, a .zst's largest window.
 */
import { basename } from 'node:path';
import { AtlasError } from '../errors.js';

const MiB = 1024 * 1024;

/** The largest .xz dictionary decoded: 64 MiB, what xz's largest preset (-9) uses. */
export const XZ_DICT_CAP = 64 * MiB;
/** The largest .zst window decoded: 256 MiB (zstd --long=28); zstd itself stops at 128 MiB. */
export const ZSTD_WINDOW_CAP = 256 * MiB;
/** The memory limit handed to the xz and zstd tools where they are used (Linux). */
export const TOOL_MEMORY_LIMIT = '256MiB';

/** Sizes as xz and zstd state them: 64 MiB, 1.5 GiB. */
export function binarySize(n: number): string {
  if (n >= 1024 * MiB) return `${+(n / (1024 * MiB)).toFixed(1)} GiB`;
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  return `${+(n / 1024).toFixed(1)} KiB`;
}

/** `dictBytes` undefined: the decoder found it over the cap while decoding. */
export function xzDictTooLarge(path: string, dictBytes?: number): AtlasError {
  const needs = dictBytes === undefined ? `more than ${binarySize(XZ_DICT_CAP)}` : binarySize(dictBytes);
  return new AtlasError(
    'unsupported',
    `${basename(path)} needs an xz dictionary of ${needs} to be decompressed; images are ` +
      `decompressed with at most ${binarySize(XZ_DICT_CAP)} (what xz -9 uses)`,
    'nothing was written: compress the image again with a standard xz level (xz -6 or xz -9), ' +
      'or decompress it where there is memory for it and use the .img',
  );
}

export function zstdWindowTooLarge(path: string, windowBytes: number): AtlasError {
  return new AtlasError(
    'unsupported',
    `${basename(path)} was compressed with a ${binarySize(windowBytes)} zstd window ` +
      `(zstd --long or --ultra); images are decompressed with at most a ${binarySize(ZSTD_WINDOW_CAP)} window`,
    'nothing was written: compress the image again without --long (or with --long=28 or less), ' +
      'or decompress it with zstd --long=31 -d and use the .img',
  );
}

export function notCompressedAs(path: string, kind: string, why: string): AtlasError {
  return new AtlasError(
    'bad-input',
    `${basename(path)} is not a valid ${kind} file: ${why}`,
    'the download is incomplete or damaged: download it again',
  );
}
