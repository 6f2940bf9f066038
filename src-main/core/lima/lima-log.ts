/**
 * Lima's logs are logrus JSON lines: `{"level":"info","msg":"...","time":"..."}`. limactl writes
 * them on stderr with `--log-format json`; the host agent always writes them to
 * `<instance dir>/ha.stderr.log`, which is where the real reason of a failed start is.
 * When limactl relays a host agent line, a fatal level is turned into "error" and the original
 * level kept as the field "fields.level" (logrus renames a field that clashes with "level").
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type LimaLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'fatal' | 'panic';

export interface LimaLogLine {
  level: LimaLogLevel;
  msg: string;
  time?: string;
}

const LEVELS: ReadonlySet<string> = new Set(['trace', 'debug', 'info', 'warning', 'error', 'fatal', 'panic']);

/** Parses one logrus JSON line; undefined for anything else (text output, blank lines). */
export function parseLimaLogLine(line: string): LimaLogLine | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof j.msg !== 'string') return undefined;
  const relayed = j['fields.level'];
  const raw = typeof relayed === 'string' && LEVELS.has(relayed) ? relayed : j.level;
  const level = (typeof raw === 'string' && LEVELS.has(raw) ? raw : 'info') as LimaLogLevel;
  return typeof j.time === 'string' ? { level, msg: j.msg, time: j.time } : { level, msg: j.msg };
}

/** The last fatal (or panic) line's message, else the last error line's, else undefined. */
export function lastFailure(lines: Iterable<string>): string | undefined {
  let fatal: string | undefined;
  let error: string | undefined;
  for (const line of lines) {
    const l = parseLimaLogLine(line);
    if (!l) continue;
    if (l.level === 'fatal' || l.level === 'panic') fatal = l.msg;
    else if (l.level === 'error') error = l.msg;
  }
  return fatal ?? error;
}

export const HA_STDERR_LOG = 'ha.stderr.log';

/** The real cause of a failed start, from `<instance dir>/ha.stderr.log` (undefined if none). */
export async function lastHostAgentFailure(instanceDir: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(instanceDir, HA_STDERR_LOG), 'utf8');
  } catch {
    return undefined;
  }
  return lastFailure(text.split('\n'));
}
