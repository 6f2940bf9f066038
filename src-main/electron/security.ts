/**
 * No remote content, no new windows, no permissions: every web contents may show the app's own
 * pages only, and the session refuses every request that is not for atlas://app/ (or DevTools).
 */
import type { Session, WebContents } from 'electron';
import { isAppUrl } from './csp.js';

export function allowedRequest(url: string): boolean {
  return isAppUrl(url) || url.startsWith('devtools://') || url.startsWith('data:');
}

export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !allowedRequest(details.url) }));
}

export function guardContents(contents: WebContents): void {
  const stay = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) event.preventDefault();
  };
  contents.on('will-navigate', stay);
  contents.on('will-redirect', stay);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
