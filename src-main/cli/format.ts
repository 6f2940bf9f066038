/** Human-readable sizes, speeds and durations for the CLI; every value shown with its control characters escaped. */
import { formatBytes } from '../common/format-bytes.js';
import { shownText } from '../common/shown-text.js';

/** A value read from a file (a manifest, a card), its control characters escaped. */
export function shown(value: string): string {
  return shownText(value);
}

export function bytes(n: number): string {
  return formatBytes(n);
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** Rows in aligned columns; each cell is shown escaped, so no value can break the table or the terminal. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(shownText));
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '))
    .join('\n');
}
