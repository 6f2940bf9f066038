/**
 * `filefrag -e` (e2fsprogs, Linux): where a file's data lies, from the file system's own extent
 * map (FIEMAP), dirty data not yet written back included (ext4 reports it as delalloc). What lies
 * outside every extent is a hole, read as zeros: a reader that knows the holes need not read them
 * (on Linux the first read of a hole fills the page cache with zero pages, seconds per GB).
 *
 * Trusted only when the extents account for every block the file has allocated (st_blocks):
 * a file system that reports too few extents is read in full, as is any output not understood.
 */
import { stat } from 'node:fs/promises';
import { AtlasError, CancelledError } from '../errors.js';
import { runTool } from './run-tool.js';

export interface DataExtent {
  start: number;
  end: number;
}

/** Extent tree blocks count in st_blocks but are not data: this much may be missing. */
const METADATA_SLACK = 256 * 1024;

/** The byte ranges of `path` (absolute) that hold data, in order; undefined when not known. */
export async function dataExtents(path: string, signal?: AbortSignal): Promise<DataExtent[] | undefined> {
  if (process.platform !== 'linux' || !path.startsWith('/')) return undefined;
  let out: string;
  try {
    const r = await runTool('filefrag', ['-e', path], signal ? { signal } : {});
    if (r.exitCode !== 0) return undefined;
    out = r.stdout;
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if (e instanceof AtlasError && e.code === 'missing-tool') return undefined;
    throw e;
  }
  const st = await stat(path);
  const extents = parseFilefrag(out, st.size);
  if (!extents) return undefined;
  const mapped = extents.reduce((n, e) => n + e.end - e.start, 0);
  return mapped + METADATA_SLACK >= st.blocks * 512 ? extents : undefined;
}

/** filefrag -e's table, in bytes (its unit is the block size its header names), merged and clamped to `size`. */
export function parseFilefrag(text: string, size: number): DataExtent[] | undefined {
  const head = /^File size of .* is (\d+) \((\d+) blocks? of (\d+) bytes\)$/m.exec(text);
  if (!head || Number(head[1]) !== size) return undefined;
  const unit = Number(head[3]);
  const rows = text.split('\n').filter((l) => /^\s*\d+:/.test(l));
  // The summary line ends a complete table (it counts physically contiguous rows as one extent).
  const count = /: (\d+) extents? found\s*$/m.exec(text);
  if (!count || Number(count[1]) > rows.length) return undefined;
  const out: DataExtent[] = [];
  for (const row of rows) {
    const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):/.exec(row);
    if (!m) return undefined;
    const start = Number(m[1]) * unit;
    const end = Math.min(size, (Number(m[2]) + 1) * unit);
    if (end <= start) continue;
    const last = out.at(-1);
    if (last && start < last.start) return undefined;
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}
