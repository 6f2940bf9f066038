/** How sizes, speeds, durations and dates are written in the app. */
import { formatBytes } from '../../src-main/common/format-bytes';
import { shownText } from '../../src-main/common/shown-text';

/** A value read from a file (a manifest, a card), its control characters escaped. */
export function shown(value: string): string {
  return shownText(value);
}

export function bytes(n: number): string {
  return formatBytes(n);
}

export function speed(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${bytes(bytesPerSecond)}/s` : '—';
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function eta(seconds: number | null): string {
  return seconds === null ? 'estimating…' : `${duration(seconds)} left`;
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
}

export function date(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function baseName(path: string): string {
  return path.split('/').filter(Boolean).at(-1) ?? path;
}
