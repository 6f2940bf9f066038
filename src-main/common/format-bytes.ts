/**
 * The one way sizes are written, in the CLI, the app and every message: decimal units, as card
 * makers and Finder count them (1 GB = 10^9 bytes).
 *   formatBytes(420e6)                      "420 MB"   (the unit that fits; one decimal below 100)
 *   formatBytes(8e9, { unit: 'GB' })        "8.0 GB"   (disk sizes, always in GB)
 *   formatBytes(3.2e9, { unit: 'GB', digits: 2 })  "3.20 GB"
 */
const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

export interface FormatBytesOptions {
  /** Always this unit (disk sizes are compared in GB). */
  unit?: 'GB';
  /** Decimals with a fixed unit (default 1). */
  digits?: number;
}

export function formatBytes(n: number, opts: FormatBytesOptions = {}): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (opts.unit === 'GB') return `${(n / 1e9).toFixed(opts.digits ?? 1)} GB`;
  let v = n;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[i]}`;
}
