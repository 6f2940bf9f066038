/**
 * Where the app's own files are. In the packaged app the builder scripts and the checklist live
 * outside the asar archive (electron-builder's asarUnpack), in app.asar.unpacked.
 */
export function unpackedRoot(appPath: string, packaged: boolean): string {
  return packaged ? appPath.replace(/app\.asar$/, 'app.asar.unpacked') : appPath;
}
