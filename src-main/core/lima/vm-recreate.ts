/**
 * Recreates the atlas-build VM from Atlas Imager's template: the VM is deleted (`limactl stop`,
 * `limactl delete`) and set up again as `vm setup` sets it up. Nothing is deleted before the user
 * confirms: `recreatePreview` only says what would be lost (the VM, its disk, everything inside the
 * guest that is not on a shared folder). The seed has the user create atlas_secrets.conf inside
 * the VM (`limactl shell atlas-build -- bash -c 'mkdir -p ~/atlas-build/scripts'`, then the file
 * at ~/atlas-build/scripts/atlas_secrets.conf in the guest); such a file is found before the VM is
 * deleted and, if the user chooses, imported into the secret store, checked as `ods-sd secrets
 * import` checks a file. Its content only passes through memory: it is never logged or returned.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AtlasError, toAtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { GuestSecretsFile, VmRecreatePreview, VmRecreateResult } from '../../common/results.js';
import { formatBytes } from '../../common/format-bytes.js';
import type { Limactl, LimaInstance } from './limactl.js';
import { VM_NAME } from './lima-builder.js';
import { sharedFolders } from './shared-folders.js';
import { SETUP_PLAN } from './start-steps.js';
import { vmSetup } from './vm.js';

export type { GuestSecretsFile, VmRecreatePreview, VmRecreateResult } from '../../common/results.js';

/** Where the seed has the user create atlas_secrets.conf in the guest, relative to the guest's home. */
export const GUEST_SECRETS = ['atlas-build/scripts/atlas_secrets.conf'] as const;

/** Where imported secrets are kept: the library's scripts/ (CLI) or the app's encrypted vault. */
export interface SecretsStore {
  /** Checks and keeps the content; `source` names it in errors. Returns the setting names. */
  import(text: string, source: string): Promise<{ keys: string[] }>;
  /** Where it is kept, for the user. */
  describe: string;
}

export const RECREATE_STEPS = {
  look: { id: 'vm-recreate-look', label: 'Look inside the old VM for atlas_secrets.conf' },
  secrets: { id: 'vm-recreate-secrets', label: 'Import atlas_secrets.conf from the old VM' },
  delete: { id: 'vm-recreate-delete', label: 'Stop and delete the old VM' },
} as const;

/** The guest's home, then each secrets file found (its size, its real path, the path looked at). */
const LOOK_SCRIPT = [
  'printf "home\\t%s\\n" "$HOME"',
  'for rel in "$@"; do',
  '  f="$HOME/$rel"',
  '  if [ -f "$f" ]; then',
  '    printf "file\\t%s\\t%s\\t%s\\n" "$(stat -L -c %s -- "$f")" "$(readlink -f -- "$f")" "$f"',
  '  fi',
  'done',
].join('\n');

// eslint-disable-next-line no-control-regex
const SAFE_GUEST_PATH = /^\/[^\u0000-\u001f\u007f]*$/;

const inside = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** What the VM's folder takes on this computer (its disk images are sparse files). */
async function usedBytes(dir: string): Promise<number | undefined> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = await lstat(p);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += st.blocks * 512;
    }
  };
  try {
    await walk(dir);
    return total;
  } catch {
    return undefined;
  }
}

interface GuestLook {
  home?: string;
  secrets: GuestSecretsFile[];
  notChecked?: string;
}

/** Looks for the seed's atlas_secrets.conf in a running guest; files on a shared folder are not counted. */
async function lookInGuest(
  lima: Limactl,
  name: string,
  instance: LimaInstance,
  signal?: AbortSignal,
): Promise<GuestLook> {
  const r = await lima.shell(name, ['sh', '-c', LOOK_SCRIPT, 'atlas-look', ...GUEST_SECRETS], {
    workdir: '/',
    ...(signal ? { signal } : {}),
  });
  if (r.exitCode !== 0) {
    return {
      secrets: [],
      notChecked: `the VM did not answer (${r.stderr.trim().split('\n').at(-1) || `exit ${r.exitCode}`})`,
    };
  }
  const shared = sharedFolders(instance).map((f) => f.guest);
  const out: GuestLook = { secrets: [] };
  for (const line of r.stdout.split('\n')) {
    const [kind, ...f] = line.split('\t');
    if (kind === 'home' && f[0]) out.home = f[0];
    if (kind !== 'file' || f.length < 3) continue;
    const [size, real, path] = f as [string, string, string];
    if (!SAFE_GUEST_PATH.test(real) || !SAFE_GUEST_PATH.test(path)) continue;
    // On a shared folder it is on this computer already: not lost with the VM.
    if (shared.some((g) => inside(g, real))) continue;
    out.secrets.push({ path, bytes: Number(size) || 0 });
  }
  return out;
}

function lostList(name: string, i: LimaInstance, look: GuestLook, used: number | undefined): string[] {
  const size = [
    i.disk ? `${formatBytes(i.disk)} disk as limactl reports it` : undefined,
    used !== undefined ? `${formatBytes(used)} used on this computer` : undefined,
  ].filter(Boolean);
  const home = look.home ?? 'its home folder';
  return [
    `the ${name} VM and its disk${size.length ? ` (${size.join(', ')})` : ''}`,
    `everything inside the guest that is not on a shared folder: ${home}, the packages installed in it, /var/lib/atlas-build and every other file on its own disk`,
    look.secrets.length
      ? `atlas_secrets.conf inside the guest: ${look.secrets.map((s) => s.path).join(', ')} (not on a shared folder: import it first)`
      : `in particular an atlas_secrets.conf inside the guest (the seed has it created at ~/atlas-build/scripts/atlas_secrets.conf there)${look.notChecked ? '' : ': none found'}`,
  ];
}

/** What recreating the VM would lose, found without changing anything (the VM is not started). */
export async function recreatePreview(
  lima: Limactl,
  o: { instance?: string; signal?: AbortSignal } = {},
): Promise<VmRecreatePreview> {
  const name = o.instance ?? VM_NAME;
  const status = await lima.status(name);
  const i = status.instance;
  if (!i || status.state === 'missing') {
    throw new AtlasError(
      'not-found',
      `the ${name} VM does not exist: there is nothing to recreate`,
      undefined,
      {
        next: [{ do: 'vm-setup' }],
      },
    );
  }
  const look: GuestLook =
    status.state === 'Running'
      ? await lookInGuest(lima, name, i, o.signal)
      : {
          secrets: [],
          notChecked: `the VM is ${status.state}: recreating it starts it first to look inside it`,
        };
  const used = i.dir ? await usedBytes(i.dir) : undefined;
  const preview: VmRecreatePreview = {
    instance: name,
    state: status.state,
    sharedFolders: sharedFolders(i).map((f) => f.host),
    protected: i.protected === true,
    lost: lostList(name, i, look, used),
    secrets: look.secrets,
  };
  if (i.disk) preview.diskBytes = i.disk;
  if (used !== undefined) preview.usedBytes = used;
  if (look.notChecked) preview.secretsNotChecked = look.notChecked;
  return preview;
}

/** Reads one secrets file found in the guest: the content stays in memory. */
async function readGuestFile(
  lima: Limactl,
  name: string,
  path: string,
  signal: AbortSignal,
): Promise<string> {
  if (!SAFE_GUEST_PATH.test(path))
    throw new AtlasError('bad-input', `unexpected guest path ${JSON.stringify(path)}`);
  // As base64: the file's exact bytes, whatever its last line (runTool hands output back by lines).
  const r = await lima.shell(name, ['base64', '--', path], { workdir: '/', signal });
  if (r.exitCode !== 0) {
    throw new AtlasError(
      'tool-failed',
      `could not read ${path} in the ${name} VM (${r.stderr.trim().split('\n').at(-1) || `exit ${r.exitCode}`}): nothing was deleted`,
    );
  }
  return Buffer.from(r.stdout.replace(/\s+/g, ''), 'base64').toString('utf8');
}

export interface RecreateOptions {
  library: string;
  instance?: string;
  template?: string;
  /** Import an atlas_secrets.conf found inside the old VM into the store before deleting it. */
  importSecrets?: boolean;
  /** Let such a file go with the VM (otherwise its presence stops the recreate before anything is deleted). */
  discardSecrets?: boolean;
}

/** Deletes the VM and creates it again from the template, after looking inside it for the seed's secrets. */
export async function vmRecreate(
  lima: Limactl,
  o: RecreateOptions,
  store: SecretsStore,
  ctx: JobContext,
): Promise<VmRecreateResult> {
  const name = o.instance ?? VM_NAME;
  const library = resolve(o.library);
  ctx.plan?.([RECREATE_STEPS.look, RECREATE_STEPS.secrets, RECREATE_STEPS.delete, ...SETUP_PLAN]);
  ctx.step(RECREATE_STEPS.look.id, RECREATE_STEPS.look.label);
  const before = await lima.status(name);
  if (before.state === 'missing') {
    throw new AtlasError(
      'not-found',
      `the ${name} VM does not exist: there is nothing to recreate`,
      undefined,
      {
        next: [{ do: 'vm-setup' }],
      },
    );
  }
  if (before.instance?.protected) {
    throw new AtlasError(
      'bad-input',
      `Lima protects the ${name} VM from removal: nothing was deleted`,
      `if it is to go, unprotect it first: limactl unprotect ${name}`,
    );
  }
  if (before.state !== 'Running') {
    const keep = `nothing was deleted; to recreate it without looking inside it, delete it yourself (limactl delete -f ${name}), then set the VM up again`;
    if (before.state !== 'Stopped' && before.state !== 'Broken') {
      throw new AtlasError(
        'tool-failed',
        `the ${name} VM is ${before.state}: it cannot be started to look inside it for atlas_secrets.conf`,
        keep,
        { next: [{ do: 'vm-setup' }] },
      );
    }
    ctx.log(
      `starting ${name} (${before.state}) to look inside it for atlas_secrets.conf before it is deleted`,
    );
    try {
      if (before.state === 'Broken') await lima.recover(name, ctx, RECREATE_STEPS.look.id);
      else await lima.start(name, ctx, RECREATE_STEPS.look.id);
    } catch (e) {
      ctx.throwIfCancelled();
      const err = toAtlasError(e);
      throw new AtlasError(
        err.code,
        `${err.message}: it could not be looked into for atlas_secrets.conf`,
        keep,
        { cause: e, next: [{ do: 'vm-setup' }] },
      );
    }
  }
  const preview = await recreatePreview(lima, { instance: name, signal: ctx.signal });
  if (preview.secretsNotChecked) {
    throw new AtlasError(
      'tool-failed',
      `could not look inside the ${name} VM for atlas_secrets.conf: ${preview.secretsNotChecked}`,
      `nothing was deleted; to recreate it without looking inside it, delete it yourself (limactl delete -f ${name}), then set the VM up again`,
      { next: [{ do: 'vm-setup' }] },
    );
  }
  const result: VmRecreateResult = { instance: name, deleted: preview, discarded: [], state: 'missing' };

  ctx.step(RECREATE_STEPS.secrets.id, RECREATE_STEPS.secrets.label);
  if (preview.secrets.length === 0) {
    ctx.log(`no atlas_secrets.conf inside the ${name} VM (looked at ~/${GUEST_SECRETS.join(', ~/')})`);
  } else if (o.importSecrets) {
    // One file is imported: the first place the seed names that holds one.
    const [first, ...others] = preview.secrets;
    const source = `${name}:${first!.path}`;
    const text = await readGuestFile(lima, name, first!.path, ctx.signal);
    const { keys } = await store.import(text, source).catch((e: unknown) => {
      const err = toAtlasError(e);
      throw new AtlasError(
        err.code,
        `${err.message}: nothing was deleted`,
        err.hint ?? `correct it inside the VM (limactl shell ${name}), or let it go with the VM`,
        { cause: e, next: [...err.next, { do: 'recreate-secrets', instance: name }] },
      );
    });
    result.imported = { from: source, keys };
    result.discarded = others.map((s) => s.path);
    ctx.log(`imported ${source} into ${store.describe} (settings: ${keys.join(', ')})`);
  } else if (o.discardSecrets) {
    result.discarded = preview.secrets.map((s) => s.path);
    ctx.log(`atlas_secrets.conf inside the VM is deleted with it, as chosen: ${result.discarded.join(', ')}`);
  } else {
    throw new AtlasError(
      'usage',
      `atlas_secrets.conf lives only inside the ${name} VM (${preview.secrets.map((s) => s.path).join(', ')}): nothing was deleted`,
      `import it into ${store.describe} first, or say that it goes with the VM`,
      { next: [{ do: 'recreate-secrets', instance: name }] },
    );
  }

  ctx.throwIfCancelled();
  ctx.step(RECREATE_STEPS.delete.id, RECREATE_STEPS.delete.label);
  try {
    await lima.stop(name);
  } catch (e) {
    ctx.log(`${toAtlasError(e).message}: stopping it forcibly`);
    await lima.stop(name, { force: true });
  }
  await lima.delete(name);
  ctx.log(`deleted the ${name} VM`);

  // From here on the old VM is gone: every failure says so, and how to go on.
  const gone = `the old ${name} VM is already deleted`;
  try {
    ctx.throwIfCancelled();
    const setup = await vmSetup(
      lima,
      { library, name, ...(o.template ? { template: o.template } : {}) },
      {
        ...ctx,
        plan: undefined,
      },
    );
    result.state = setup.state;
    if (setup.libraryInVm) result.libraryInVm = setup.libraryInVm;
    return result;
  } catch (e) {
    const err = toAtlasError(e);
    ctx.log(`${gone}: set the VM up again once the cause is fixed`);
    throw new AtlasError(
      err.code === 'cancelled' ? 'cancelled' : err.code,
      `${gone}, and creating it from Atlas Imager's template failed: ${err.message}`,
      [
        err.hint,
        `set the VM up once the cause is fixed${result.imported ? `; the secrets imported from it are kept in ${store.describe}` : ''}`,
      ]
        .filter(Boolean)
        .join('; '),
      { next: [{ do: 'vm-setup' }, ...err.next.filter((s) => s.do !== 'vm-setup')], cause: e },
    );
  }
}
