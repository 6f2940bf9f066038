/**
 * How each job request of the contract becomes a core phase run: its title, the cards and
 * library paths it locks, and the run itself, whose result is mapped onto the contract's shape.
 */
import { basename, join, resolve } from 'node:path';
import type { JobContext } from '../core/jobs/job.js';
import type { Env } from '../core/phases/env.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import { insert } from '../core/phases/insert.js';
import { clone } from '../core/phases/clone.js';
import { restore } from '../core/phases/restore.js';
import { verify } from '../core/phases/verify.js';
import { shrink } from '../core/phases/shrink.js';
import { COMPRESSED_SUFFIX } from '../core/images/compression.js';
import { flash } from '../core/phases/flash.js';
import { erase } from '../core/phases/erase.js';
import { inspect, type Inspection } from '../core/phases/inspect.js';
import { cloneImageName, cloneSetDirName, goldenImageName } from '../core/naming.js';
import { cloneSetPath } from '../core/phases/clone.js';
import { adoptSet } from '../core/phases/set-elsewhere.js';
import type { VmUpgradeResult } from '../core/lima/vm-upgrade.js';
import type { SecretsStore, VmRecreateResult } from '../core/lima/vm-recreate.js';
import type { InspectionDto, JobRequest, VmStatusDto } from '../common/contract.js';
import type { JobSpec } from './job-registry.js';
import { archiveItem } from './archive.js';
import { stageImage } from './staging.js';
import { findItem, type Places } from './library-view.js';
import { pickedCard, protectedPlaces } from './card-checks.js';

/** The VM operations that run as jobs (see vm-backend.ts). */
export interface VmJobs {
  setup(ctx: JobContext): Promise<VmStatusDto>;
  start(ctx: JobContext): Promise<VmStatusDto>;
  stop(ctx: JobContext): Promise<VmStatusDto>;
  /** A VM not made from the template, upgraded in place (deletes nothing). */
  upgrade(ctx: JobContext): Promise<VmUpgradeResult>;
  /** The VM deleted and created again from the template (the user confirmed). */
  recreate(ctx: JobContext, o: { importSecrets: boolean }, store: SecretsStore): Promise<VmRecreateResult>;
}

/** The app's encrypted vault as the store recreate imports a secrets file found inside the VM into. */
export function vaultStore(vault: SecretVault): SecretsStore {
  return {
    describe: "Atlas Imager's encrypted secret store",
    import: async (text, source) => ({ keys: (await vault.importText(text, source)).keys }),
  };
}

export interface SpecDeps {
  env: Env;
  places(): Promise<Places>;
  vm: VmJobs;
  vault: SecretVault;
}

/** A name for titles that never throws (the phase itself validates and explains). */
function safe(make: () => string, fallback: string): string {
  try {
    return make();
  } catch {
    return fallback;
  }
}

export function toInspectionDto(i: Inspection): InspectionDto {
  const dto: InspectionDto = {
    path: i.path,
    kind: i.kind,
    compression: i.compression,
    bytes: i.bytes,
    table: i.table,
    partitions: i.partitions.map((p) => ({ ...p })),
    state: i.state,
    stateText: i.stateText,
    payloadPresent: i.payloadPresent,
    armbianLayout: i.armbianLayout,
    truncated: i.truncated,
    problems: [...i.problems],
  };
  if (i.artifact) dto.artifact = { ...i.artifact };
  return dto;
}

export async function jobSpec(req: JobRequest, deps: SpecDeps): Promise<JobSpec> {
  const { env } = deps;
  const library = resolve(env.library);
  switch (req.kind) {
    case 'inspect':
      return {
        request: req,
        title: `Inspect ${basename(req.path)}`,
        locks: [],
        run: async (ctx) => toInspectionDto(await inspect(env, req.path, ctx)),
      };
    case 'insert': {
      const name = safe(() => goldenImageName(req.version, req.tag), 'golden image');
      return {
        request: req,
        title: `Insert: ${name}`,
        locks: [join(library, name)],
        run: async (ctx) => {
          const params = { base: req.base, payload: req.payload, version: req.version, tag: req.tag };
          // The imported secrets exist as a plain file only while this job runs.
          if (!(await deps.vault.status()).stored) return insert(env, params, ctx);
          return deps.vault.withFile((secrets) => insert(env, { ...params, secrets }, ctx));
        },
      };
    }
    case 'flash': {
      const n = req.cards.length;
      return {
        request: req,
        title: `Flash ${basename(req.image)} to ${n === 1 ? basename(req.cards[0]!.path) : `${n} cards`}`,
        locks: req.cards.map((c) => c.path),
        run: async (ctx) => {
          // A card found changed keeps the identity it was picked with: the phase's own re-check
          // then refuses that card alone, and the other cards are still written.
          const expected = await Promise.all(req.cards.map((c) => pickedCard(c).catch(() => ({ ...c }))));
          const paths = req.cards.map((c) => c.path);
          return flash(
            env,
            {
              image: req.image,
              cards: paths,
              verify: req.verify,
              expected,
              places: protectedPlaces(await deps.places()),
              allowUnusual: (req.confirmed ?? []).filter((p) => paths.includes(p)),
            },
            ctx,
          );
        },
      };
    }
    case 'clone': {
      const dir = safe(() => cloneSetDirName(req.name), req.name);
      return {
        request: req,
        title: `Clone ${basename(req.card.path)} to ${dir}`,
        locks: [req.card.path, join(library, dir)],
        run: async (ctx) => {
          const card = await pickedCard(req.card);
          return clone(env, { card: card.path, name: req.name }, ctx);
        },
      };
    }
    case 'restore': {
      const set = safe(() => cloneSetPath(library, req.set), req.set);
      return {
        request: req,
        title: `Restore ${basename(set)} to ${basename(req.card.path)}`,
        locks: [req.card.path, set],
        run: async (ctx) => {
          const card = await pickedCard(req.card);
          return restore(
            env,
            {
              card: card.path,
              set: req.set,
              expected: card,
              places: protectedPlaces(await deps.places()),
              allowUnusual: req.confirmed === true,
            },
            ctx,
          );
        },
      };
    }
    case 'erase':
      return {
        request: req,
        title: `Erase ${basename(req.card.path)}`,
        locks: [req.card.path],
        run: async (ctx) => {
          const card = await pickedCard(req.card);
          return erase(
            env,
            {
              card: card.path,
              expected: card,
              places: protectedPlaces(await deps.places()),
              allowUnusual: req.confirmed === true,
            },
            ctx,
          );
        },
      };
    case 'verify':
      return {
        request: req,
        title: `Verify ${basename(req.card)}`,
        locks: [req.card],
        run: (ctx) => verify(env, { card: req.card }, ctx),
      };
    case 'shrink': {
      const img = safe(() => cloneImageName(req.version, req.tag), 'clone image');
      const name = req.compress ? `${img}${COMPRESSED_SUFFIX[req.compress]}` : img;
      return {
        request: req,
        title: `Shrink ${basename(req.card)} to ${name}`,
        locks: [req.card, join(library, name)],
        run: (ctx) =>
          shrink(
            env,
            {
              card: req.card,
              version: req.version,
              tag: req.tag,
              force: req.force,
              ...(req.compress ? { compress: req.compress } : {}),
            },
            ctx,
          ),
      };
    }
    case 'archive': {
      const places = await deps.places();
      const entry = await findItem(library, req.path);
      return {
        request: req,
        title: `Archive ${entry.name}`,
        locks: [entry.path],
        run: (ctx) => archiveItem(entry, places.archiveDir, ctx),
      };
    }
    case 'stage': {
      const places = await deps.places();
      const entry = await findItem(library, req.path);
      return {
        request: req,
        title: `Stage ${entry.name} on the Desktop`,
        locks: [entry.path, places.stagingDir],
        run: (ctx) => stageImage(entry, library, places.stagingDir, ctx),
      };
    }
    case 'adopt':
      return {
        request: req,
        title: `Adopt ${basename(req.path)} into the library`,
        locks: [req.path],
        run: (ctx) => adoptSet(env, { set: req.path, ...(req.name ? { name: req.name } : {}) }, ctx),
      };
    case 'vm-setup':
      return {
        request: req,
        title: 'Set up the atlas-build VM',
        locks: ['vm'],
        run: (ctx) => deps.vm.setup(ctx),
      };
    case 'vm-start':
      return {
        request: req,
        title: 'Start the atlas-build VM',
        locks: ['vm'],
        run: (ctx) => deps.vm.start(ctx),
      };
    case 'vm-upgrade':
      return {
        request: req,
        title: 'Upgrade the atlas-build VM in place',
        locks: ['vm'],
        run: (ctx) => deps.vm.upgrade(ctx),
      };
    case 'vm-recreate':
      return {
        request: req,
        title: 'Recreate the atlas-build VM from the template',
        locks: ['vm'],
        run: (ctx) => deps.vm.recreate(ctx, { importSecrets: req.importSecrets }, vaultStore(deps.vault)),
      };
    case 'vm-stop':
      return {
        request: req,
        title: 'Stop the atlas-build VM',
        locks: ['vm'],
        run: (ctx) => deps.vm.stop(ctx),
      };
  }
}

/** Jobs whose end changes what is in the library (output published, or partial output removed). */
export const CHANGES_LIBRARY: ReadonlySet<JobRequest['kind']> = new Set([
  'insert',
  'clone',
  'shrink',
  'archive',
  'stage',
  'adopt',
  'restore',
]);
