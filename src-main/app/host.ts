/**
 * What the handlers need from the desktop around them: native open dialogs and "reveal in
 * Finder". Electron main implements it with dialog and shell; the e2e test server answers the
 * dialogs with the paths the test registered.
 */
import type { FilePurpose, FolderPurpose } from '../common/contract.js';

export interface Host {
  openFile(purpose: FilePurpose): Promise<string | null>;
  openFolder(purpose: FolderPurpose): Promise<string | null>;
  reveal(path: string): void;
}
