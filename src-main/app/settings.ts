/**
 * The app's few settings (payload folder, archive folder), kept as JSON in the
 * app's data folder. The payload folder is picked once and remembered.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Settings, SettingsPatch } from '../common/contract.js';
import { defaultArchiveDir } from '../core/library/places.js';
export { defaultArchiveDir } from '../core/library/places.js';

export function defaultSettings(): Settings {
  return { payloadDir: null, archiveDir: defaultArchiveDir() };
}

export class SettingsStore {
  private cache: Settings | undefined;

  constructor(
    private readonly file: string,
    private readonly defaults: Settings = defaultSettings(),
  ) {}

  async get(): Promise<Settings> {
    if (!this.cache) {
      let stored: Partial<Settings> = {};
      try {
        stored = JSON.parse(await readFile(this.file, 'utf8')) as Partial<Settings>;
      } catch {
        stored = {};
      }
      this.cache = {
        payloadDir: typeof stored.payloadDir === 'string' ? stored.payloadDir : this.defaults.payloadDir,
        archiveDir: typeof stored.archiveDir === 'string' ? stored.archiveDir : this.defaults.archiveDir,
      };
    }
    return { ...this.cache };
  }

  async set(patch: SettingsPatch): Promise<Settings> {
    const next = { ...(await this.get()), ...patch };
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.partial`;
    await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
    this.cache = next;
    return { ...next };
  }
}

export const DEFAULT_SETTINGS_FILE = join(homedir(), '.atlas-imager', 'settings.json');
