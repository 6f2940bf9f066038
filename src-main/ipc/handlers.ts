/**
 * The contract mapped onto the core: one handler per request channel. Long operations become
 * jobs in the registry; library actions (reveal, delete with a confirmation ticket) and the
 * small look-ups the wizard needs (payload, names, cards) answer at once.
 */
import { resolve } from 'node:path';
import { AtlasError } from '../core/errors.js';
import { APP_VERSION } from '../core/library/manifest.js';
import type { Env } from '../core/phases/env.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import type { EventMap } from './contract.js';
import { flashCheck, identifyCandidate, protectedPlaces } from './cards.js';
import { DeleteTickets, deleteItem } from './delete-tickets.js';
import type { Host } from './host.js';
import type { JobRegistry } from './job-registry.js';
import { jobSpec } from './job-specs.js';
import { findItem, isInside, libraryView, stagedImage, type Places } from './library-view.js';
import { nextSetName, planOutput, suggestNames } from './names.js';
import { checkPayload } from './payload.js';
import type { Handlers } from './router.js';
import type { SettingsStore } from './settings.js';
import type { VmBackend, VmCardsHandlers } from './handlers-vm-cards.js';

export type EventSink = <K extends keyof EventMap>(channel: K, payload: EventMap[K]) => void;

export interface HandlerDeps {
  env: Env;
  host: Host;
  settings: SettingsStore;
  jobs: JobRegistry;
  emit: EventSink;
  /** The one-image staging folder (~/Desktop). */
  stagingDir: string;
  platform: string;
  vm: VmBackend;
  vmCards: VmCardsHandlers;
  /** atlas_secrets.conf, encrypted at rest. */
  vault: SecretVault;
}

export function createHandlers(deps: HandlerDeps): Handlers {
  const { env, host, settings, jobs, emit, vault } = deps;
  const library = resolve(env.library);
  const tickets = new DeleteTickets();
  const places = async (): Promise<Places> => ({
    library,
    archiveDir: (await settings.get()).archiveDir,
    stagingDir: deps.stagingDir,
  });

  /** Reveal only what the app shows: the library, its items, the archive, the staged image. */
  async function revealable(path: string): Promise<boolean> {
    const p = await places();
    if (isInside(library, path) || isInside(p.archiveDir, path)) return true;
    const staged = await stagedImage(p.stagingDir);
    return staged !== null && resolve(p.stagingDir, staged) === path;
  }

  return {
    'app:info': async () => ({
      appVersion: APP_VERSION,
      platform: deps.platform,
      library,
      builder: env.builder.describe(),
      builderKind: env.builder.kind,
      stagingDir: deps.stagingDir,
    }),
    'settings:get': () => settings.get(),
    'settings:set': (patch) => settings.set(patch),
    'dialog:open-file': (purpose) => host.openFile(purpose),
    'dialog:open-folder': (purpose) => host.openFolder(purpose),
    'payload:check': (dir) => checkPayload(dir, vault, library),
    'secrets:status': () => vault.status(),
    'secrets:import': (file) => vault.import(file),
    'secrets:forget': () => vault.forget(),
    'names:suggest': () => suggestNames(library),
    'names:plan': (req) => planOutput(library, req),
    'names:next-set': (tag) => nextSetName(library, tag),
    'library:list': async () => libraryView(await places()),
    'library:reveal': async (path) => {
      if (!(await revealable(path))) {
        throw new AtlasError('bad-input', `${path} is not in the library, the archive or the staging folder`);
      }
      host.reveal(path);
      return null;
    },
    'library:delete-request': async (path) => tickets.issue(await findItem(library, path)),
    'library:delete': async (path, token) => {
      tickets.redeem(path, token);
      const entry = await findItem(library, path);
      const holder = jobs.holderOf(entry.path);
      if (holder) {
        throw new AtlasError(
          'bad-input',
          `${entry.name} is in use by "${holder.title}"`,
          'wait for it to finish',
        );
      }
      await deleteItem(entry);
      emit('library:changed', { reason: `deleted ${entry.name}` });
      return null;
    },
    'cards:identify': async (path) => identifyCandidate(path, protectedPlaces(await places())),
    'flash:check': async (image, cards) => flashCheck(image, cards, protectedPlaces(await places())),
    'jobs:start': async (request) => jobs.start(await jobSpec(request, { env, places, vm: deps.vm, vault })),
    'jobs:cancel': async (id) => {
      jobs.cancel(id);
      return null;
    },
    'jobs:list': async () => jobs.list(),
    ...deps.vmCards,
  };
}
