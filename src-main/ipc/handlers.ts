/**
 * The contract mapped onto the app's services (src-main/app): one handler per request channel.
 * Long operations become jobs in the registry, each with the builder of the moment it starts;
 * library actions (reveal, delete with a confirmation ticket), the small look-ups the wizard
 * needs (payload, names, cards), the VM screen and its terminal answer at once.
 */
import { resolve } from 'node:path';
import { AtlasError } from '../core/errors.js';
import { APP_VERSION } from '../core/library/manifest.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import { envNow, type BuilderProvider } from '../app/builders.js';
import { flashCheck, identifyCandidate, protectedPlaces } from '../app/card-checks.js';
import { listCardCandidates } from '../app/card-list.js';
import { DeleteTickets, deleteItem } from '../app/delete-tickets.js';
import type { Host } from '../app/host.js';
import type { JobRegistry } from '../app/job-registry.js';
import { jobSpec } from '../app/job-specs.js';
import { findItem, isInside, libraryView, stagedImage, type Places } from '../app/library-view.js';
import { nextSetName, planOutput, suggestNames } from '../app/names.js';
import { checkPayload } from '../app/payload.js';
import type { SettingsStore } from '../app/settings.js';
import { setCountThreshold } from '../core/checklist/thresholds.js';
import { DEFAULT_CHECKLIST } from '../core/phases/verify.js';
import type { TerminalSessions } from '../app/terminal-sessions.js';
import type { VmBackend } from '../app/vm-backend.js';
import type { CardCandidate, EventMap } from '../common/contract.js';
import type { Handlers } from './router.js';

export type EventSink = <K extends keyof EventMap>(channel: K, payload: EventMap[K]) => void;

export interface HandlerDeps {
  /** The library / work directory (default ~/atlas-build). */
  library: string;
  /** The builder a job starting now runs on. */
  builders: BuilderProvider;
  host: Host;
  settings: SettingsStore;
  jobs: JobRegistry;
  emit: EventSink;
  /** The one-image staging folder (~/Desktop). */
  stagingDir: string;
  platform: string;
  vm: VmBackend;
  terminals: TerminalSessions;
  /** The cards in the readers; default: every disk from core/cards/drive-list.ts. */
  listCards?: () => Promise<CardCandidate[]>;
  /** atlas_secrets.conf, encrypted at rest. */
  vault: SecretVault;
}

export function createHandlers(deps: HandlerDeps): Handlers {
  const { builders, host, settings, jobs, emit, vault, vm, terminals } = deps;
  const library = resolve(deps.library);
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
      builder: builders.current().describe(),
      builderKind: builders.current().kind,
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
    'checklist:set-threshold': (req) => setCountThreshold(library, DEFAULT_CHECKLIST, req.id, req.min),
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
    'jobs:start': async (request) =>
      jobs.start(await jobSpec(request, { env: envNow(builders, deps.library), places, vm, vault })),
    'jobs:cancel': async (id) => {
      jobs.cancel(id);
      return null;
    },
    'jobs:list': async () => jobs.list(),
    'cards:list': async () =>
      deps.listCards ? deps.listCards() : listCardCandidates({ places: protectedPlaces(await places()) }),
    'vm:status': () => vm.status(),
    'vm:doctor': () => vm.doctor(),
    'vm:recreate-preview': () => vm.recreatePreview(),
    'terminal:open': async (cols, rows) => terminals.open(await vm.shell(), cols, rows),
    'terminal:input': async (id, data) => {
      terminals.input(id, data);
      return null;
    },
    'terminal:resize': async (id, cols, rows) => {
      terminals.resize(id, cols, rows);
      return null;
    },
    'terminal:close': async (id) => {
      terminals.close(id);
      return null;
    },
  };
}
