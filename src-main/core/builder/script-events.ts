/**
 * Parser for the builder scripts' progress protocol (see lima/scripts/atlas-common.sh):
 *   @@ATLAS step ID TOTAL_BYTES LABEL...
 *   @@ATLAS progress DONE TOTAL
 *   @@ATLAS result KEY VALUE...
 *   @@ATLAS fact ID key=value ...
 *   @@ATLAS fail CODE MESSAGE...
 *   @@ATLAS table LABEL BYTES / @@ATLAS part N START SECTORS TYPE FS USED LABEL   (inspect)
 */
export type ScriptEvent =
  | { kind: 'step'; id: string; totalBytes: number; label: string }
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'result'; key: string; value: string }
  | { kind: 'fact'; id: string; fields: Record<string, string> }
  | { kind: 'fail'; code: string; message: string }
  | { kind: 'record'; name: string; fields: string[] };

const PREFIX = '@@ATLAS ';

export function parseScriptLine(line: string): ScriptEvent | undefined {
  if (!line.startsWith(PREFIX)) return undefined;
  const words = line.slice(PREFIX.length).split(' ');
  const [kind, ...rest] = words;
  switch (kind) {
    case 'step':
      return {
        kind: 'step',
        id: rest[0] ?? '',
        totalBytes: Number(rest[1]) || 0,
        label: rest.slice(2).join(' '),
      };
    case 'progress':
      return { kind: 'progress', done: Number(rest[0]) || 0, total: Number(rest[1]) || 0 };
    case 'result':
      return { kind: 'result', key: rest[0] ?? '', value: rest.slice(1).join(' ') };
    case 'fail':
      return { kind: 'fail', code: rest[0] ?? 'tool-failed', message: rest.slice(1).join(' ') };
    case 'fact': {
      const fields: Record<string, string> = {};
      for (const w of rest.slice(1)) {
        const eq = w.indexOf('=');
        if (eq > 0) fields[w.slice(0, eq)] = w.slice(eq + 1);
      }
      return { kind: 'fact', id: rest[0] ?? '', fields };
    }
    default:
      return kind ? { kind: 'record', name: kind, fields: rest } : undefined;
  }
}

/**
 * partclone redraws "Elapsed: 00:00:02, Remaining: 00:00:00, Completed: 42.00%, Rate: 1.2GB/min,"
 * on stderr (the first one says "0.00byte/min," instead of "Rate: ..."). Only lines with a speed
 * ("/min") belong to the data pass; the bitmap pass prints none.
 * Returns the completed fraction (0..1) or undefined.
 */
export function parsePartcloneProgress(line: string): number | undefined {
  if (!line.includes('/min')) return undefined;
  const m = /Completed:\s*([\d.]+)%/.exec(line);
  if (!m) return undefined;
  const pct = Number(m[1]);
  return Number.isFinite(pct) ? Math.min(1, Math.max(0, pct / 100)) : undefined;
}
