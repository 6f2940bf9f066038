/**
 * The renderer's Content-Security-Policy, one string for every place it is applied: the meta tag
 * of the built index.html (vite), the atlas:// protocol's response header (Electron main) and the
 * e2e test server. Scripts only from the app itself, no eval, no remote anything. Styles allow
 * inline `style` attributes and elements, which React's style props and xterm.js's renderer use.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The app's own origin: the renderer is served from atlas://app/, never from the network. */
export const APP_SCHEME = 'atlas';
export const APP_ORIGIN = 'atlas://app';
export const APP_URL = `${APP_ORIGIN}/index.html`;

export function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}
