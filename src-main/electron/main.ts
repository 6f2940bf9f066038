/**
 * Entry point of the Electron main process. The core finds lima/scripts and resources/ through
 * ATLAS_IMAGER_ROOT, which must be set before the core loads: hence the dynamic import. The
 * atlas:// scheme is registered first, before anything awaits, because Electron only accepts it
 * before the app is ready (with an ES module entry, `ready` may fire during a top-level await).
 */
import { app, protocol } from 'electron';
import { unpackedRoot } from './main-root.js';
import { APP_SCHEME_PRIVILEGES } from './protocol.js';

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
const appRoot = app.getAppPath();
process.env.ATLAS_IMAGER_ROOT ??= unpackedRoot(appRoot, app.isPackaged);
const { startApp } = await import('./app.js');
startApp(appRoot);
