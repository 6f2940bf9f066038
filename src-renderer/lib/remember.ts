/**
 * What the app remembers between runs of this window that is the user's choice, not the
 * library's (the last image flashed): kept in the window's own storage, never required.
 */
const PREFIX = 'atlas-imager:';

export function remembered(key: string): string | null {
  try {
    return window.localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

export function remember(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(PREFIX + key);
    else window.localStorage.setItem(PREFIX + key, value);
  } catch {
    // Storage may be unavailable (private mode); remembering is a convenience only.
  }
}
