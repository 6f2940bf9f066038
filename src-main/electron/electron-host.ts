/** The handlers' Host in Electron: native open dialogs and "reveal in Finder". */
import type { BrowserWindow, Dialog, OpenDialogOptions, Shell } from 'electron';
import type { FilePurpose, FolderPurpose } from '../common/contract.js';
import type { Host } from '../app/host.js';

const FILE_DIALOGS: Record<FilePurpose, OpenDialogOptions> = {
  'base-image': {
    title: 'Choose the base Armbian image',
    filters: [{ name: 'Armbian image', extensions: ['img', 'xz', 'gz', 'zst'] }],
  },
  image: {
    title: 'Choose an image to flash',
    filters: [{ name: 'Disk image', extensions: ['img', 'xz', 'gz', 'zst'] }],
  },
  'card-image': {
    title: 'Choose an image file to use as the card',
    filters: [{ name: 'Card image', extensions: ['img'] }],
  },
  secrets: {
    title: 'Choose atlas_secrets.conf',
    filters: [{ name: 'Secrets', extensions: ['conf'] }],
  },
};

const FOLDER_TITLES: Record<FolderPurpose, string> = {
  payload: 'Choose your ods-player-os-atlas checkout (or a payload folder)',
  archive: 'Choose the archive folder (NVME_VAULT/golden-atlas-img)',
};

export function electronHost(dialog: Dialog, shell: Shell, window: () => BrowserWindow | null): Host {
  const open = async (options: OpenDialogOptions): Promise<string | null> => {
    const win = window();
    const r = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  };
  return {
    openFile: (purpose) => open({ ...FILE_DIALOGS[purpose], properties: ['openFile'] }),
    openFolder: (purpose) =>
      open({ title: FOLDER_TITLES[purpose], properties: ['openDirectory', 'createDirectory'] }),
    reveal: (path) => shell.showItemInFolder(path),
  };
}
