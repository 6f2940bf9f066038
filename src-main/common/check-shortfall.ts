/**
 * A failed count of the checklist in words: which folder, how many it holds, what the checklist
 * expects. Names no command or button: the CLI and the app add what to do, each in its own words.
 */
import type { CountShortfall } from './results.js';

function plural(n: number, one: string): string {
  const many = one === 'entry' ? 'entries' : `${one}s`;
  return `${n} ${n === 1 ? one : many}`;
}

/** `/usr/share/plymouth/themes/ods holds 1 file (subfolders included); the checklist expects at least 138`. */
export function shortfallText(s: CountShortfall): string {
  const noun = s.counted === 'files' ? 'file' : s.counted === 'packages' ? 'package' : 'entry';
  const named = s.pattern ? ` named ${s.pattern}` : '';
  const bounds = [
    s.min !== undefined ? `at least ${s.min}` : '',
    s.max !== undefined ? `at most ${s.max}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const found = s.missing
    ? `${s.path} is not in the card`
    : `${s.path} holds ${plural(s.found, noun)}${named}${s.recursive ? ' (subfolders included)' : ''}`;
  return `${found}; the checklist expects ${bounds || 'another number'}`;
}
