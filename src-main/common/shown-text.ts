/**
 * A value read from a file (a manifest, a dump, a card) as it may be shown in a terminal or the
 * app: its control characters escaped, so a value can neither move the cursor, clear the screen,
 * start a line of its own nor reorder the text around it. `\n`, `\r`, `\t` read as such; other
 * C0 and C1 controls and DEL as `\xHH`; the bidirectional overrides and isolates and the line and
 * paragraph separators as `\u{HHHH}`. Everything else is kept as it is.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u{${code.toString(16).padStart(4, '0')}}`;
}

/** `value` with its control characters escaped (see above). */
export function shownText(value: string): string {
  return value.replace(CONTROL, escapeOne);
}

/** The first `max` characters of `value`, escaped, with "…" when it was longer. */
export function shownExcerpt(value: string, max: number): string {
  const chars = [...value];
  return shownText(chars.slice(0, max).join('')) + (chars.length > max ? '…' : '');
}
