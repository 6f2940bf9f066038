/**
 * Serves the built renderer from atlas://app/ (as VS Code serves its workbench from
 * vscode-file://): only files inside the renderer folder, each with the CSP header, nothing
 * from the network. A standard, secure scheme gives the page a proper origin for 'self'.
 */
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type { CustomScheme, Protocol } from 'electron';
import { APP_SCHEME, CSP } from './csp.js';

export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, stream: false },
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

function notFound(status = 404): Response {
  return new Response(status === 404 ? 'not found' : 'forbidden', {
    status,
    headers: { 'content-type': 'text/plain' },
  });
}

/** The response for one atlas:// URL: a file of the renderer folder, or 404/403. */
export async function rendererResponse(rendererDir: string, url: string): Promise<Response> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return notFound();
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== 'app') return notFound();
  const path = decodeURIComponent(u.pathname);
  const file = resolve(rendererDir, `.${path === '/' ? '/index.html' : path}`);
  const rel = relative(rendererDir, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return notFound(403);
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      },
    });
  } catch {
    return notFound();
  }
}

export function serveRenderer(protocol: Protocol, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => rendererResponse(rendererDir, request.url));
}
