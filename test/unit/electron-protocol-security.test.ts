// The atlas:// protocol (only the renderer's own files, each with the CSP header) and the session
// and web-contents guards (no permissions, no remote requests, no navigation, no new windows).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { rendererResponse, serveRenderer, APP_SCHEME_PRIVILEGES } from '../../src-main/electron/protocol.js';
import { allowedRequest, guardContents, hardenSession } from '../../src-main/electron/security.js';
import { CSP, isAppUrl } from '../../src-main/electron/csp.js';
import { scratch } from '../helpers/fixtures.js';

function rendererDir(): string {
  const dir = join(scratch('protocol'), 'renderer');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Atlas</title>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, '..', 'secret.txt'), 'not for the renderer');
  return dir;
}

describe('the atlas:// protocol', () => {
  it('serves the renderer files with the CSP header', async () => {
    const dir = rendererDir();
    const page = await rendererResponse(dir, 'atlas://app/index.html');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(await page.text()).toContain('<title>Atlas</title>');
    const script = await rendererResponse(dir, 'atlas://app/assets/app.js');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await rendererResponse(dir, 'atlas://app/')).status).toBe(200);
  });

  it('serves nothing outside the renderer folder or for another host', async () => {
    const dir = rendererDir();
    // The URL parser already removes dot segments; an encoded slash is caught after decoding.
    expect((await rendererResponse(dir, 'atlas://app/%2e%2e/secret.txt')).status).toBe(404);
    expect((await rendererResponse(dir, 'atlas://app/..%2fsecret.txt')).status).toBe(403);
    expect((await rendererResponse(dir, 'atlas://app/assets/..%2f..%2fsecret.txt')).status).toBe(403);
    expect((await rendererResponse(dir, 'atlas://other/index.html')).status).toBe(404);
    expect((await rendererResponse(dir, 'atlas://app/missing.js')).status).toBe(404);
    expect((await rendererResponse(dir, 'not a url')).status).toBe(404);
  });

  it('registers a standard, secure scheme and its handler', async () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({
      scheme: 'atlas',
      privileges: { standard: true, secure: true },
    });
    const handle = vi.fn();
    serveRenderer({ handle } as unknown as Parameters<typeof serveRenderer>[0], rendererDir());
    expect(handle).toHaveBeenCalledWith('atlas', expect.any(Function));
    const response = await handle.mock.calls[0]![1]({ url: 'atlas://app/index.html' });
    expect(response.status).toBe(200);
  });

  it('has a strict policy: scripts only from the app, nothing remote, no eval', () => {
    expect(CSP).toContain("default-src 'none'");
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toMatch(/unsafe-eval|https?:|\*/);
    expect(CSP.match(/script-src [^;]*/)![0]).not.toContain('unsafe-inline');
    expect(isAppUrl('atlas://app/index.html')).toBe(true);
    expect(isAppUrl('atlas://application.evil/')).toBe(false);
  });
});

describe('session and web-contents guards', () => {
  it('refuses every permission and every request that is not the app', () => {
    const onBeforeRequest = vi.fn();
    const ses = {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      webRequest: { onBeforeRequest },
    };
    hardenSession(ses as unknown as Parameters<typeof hardenSession>[0]);
    const permission = vi.fn();
    ses.setPermissionRequestHandler.mock.calls[0]![0](null, 'media', permission);
    expect(permission).toHaveBeenCalledWith(false);
    expect(ses.setPermissionCheckHandler.mock.calls[0]![0]()).toBe(false);
    const filter = onBeforeRequest.mock.calls[0]![0] as (d: { url: string }, cb: (r: object) => void) => void;
    const answer = (url: string) => {
      let r: object = {};
      filter({ url }, (x) => (r = x));
      return r;
    };
    expect(answer('https://cdn.example.com/x.js')).toEqual({ cancel: true });
    expect(answer('http://127.0.0.1:8080/')).toEqual({ cancel: true });
    expect(answer('atlas://app/assets/index.js')).toEqual({ cancel: false });
    expect(allowedRequest('file:///etc/passwd')).toBe(false);
  });

  it('keeps every web contents on the app: no navigation away, no webviews, no new windows', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    guardContents(contents as unknown as Parameters<typeof guardContents>[0]);
    const away = { preventDefault: vi.fn() };
    contents.emit('will-navigate', away, 'https://evil.example/');
    expect(away.preventDefault).toHaveBeenCalled();
    const reload = { preventDefault: vi.fn() };
    contents.emit('will-navigate', reload, 'atlas://app/index.html');
    expect(reload.preventDefault).not.toHaveBeenCalled();
    const redirect = { preventDefault: vi.fn() };
    contents.emit('will-redirect', redirect, 'http://example.com');
    expect(redirect.preventDefault).toHaveBeenCalled();
    const webview = { preventDefault: vi.fn() };
    contents.emit('will-attach-webview', webview);
    expect(webview.preventDefault).toHaveBeenCalled();
    expect(contents.setWindowOpenHandler.mock.calls[0]![0]({ url: 'https://x' })).toEqual({ action: 'deny' });
  });
});
