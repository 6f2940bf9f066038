// Recreating the atlas-build VM from the app's template, starting from the user's own VM (made from
// their tools/atlas-build.yaml: test/fixtures/lima/ods-sd-atlas-build.yaml, in the limactl double)
// with atlas_secrets.conf where the seed has it created inside the guest
// (~/atlas-build/scripts/atlas_secrets.conf, after `limactl shell atlas-build -- bash -c 'mkdir -p
// ~/atlas-build/scripts'`). Without confirmation nothing is deleted and what would be lost is said;
// confirmed, the file is imported (the app's vault, the CLI's library file) before the VM is deleted,
// its values never appear in a log or an output, and the new VM is the template's; a failing
// creation says the old VM is gone.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, scratch } from '../helpers/fixtures.js';
import { odsSdInProcess } from '../helpers/cli-in-process.js';
import { startJob, type JobContext, type JobEvent } from '../../src-main/core/jobs/job.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import { vmRecreate, type SecretsStore } from '../../src-main/core/lima/vm-recreate.js';
import { templateDifferences } from '../../src-main/core/lima/template-check.js';
import { toAtlasError } from '../../src-main/core/errors.js';
import { runTool } from '../../src-main/core/tools/run-tool.js';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { importSecretsText, secretsPath } from '../../src-main/core/secrets/secrets-file.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { vaultStore } from '../../src-main/app/job-specs.js';
import { cliHint } from '../../src-main/cli/next-steps.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';

const DOUBLES = join(ROOT, 'test', 'doubles', 'bin');
const VM = 'atlas-build';
const KEYS = [
  'PATH',
  'HOME',
  'LIMA_HOME',
  'ATLAS_LIMACTL',
  'ATLAS_LIMA_DOUBLE_ARGV_LOG',
  'ATLAS_LIMA_DOUBLE_FAIL',
] as const;
const saved: Partial<Record<(typeof KEYS)[number], string>> = {};

const SECRET = 'pw-Rc7!guest-only';
const CONTENT = `# made inside Lima, as the seed says\nROOT_PASSWORD="${SECRET}"\nexport WIFI_PSK="psk-${SECRET}"\n`;

async function run<T>(
  fn: (ctx: JobContext) => Promise<T>,
): Promise<{ result: T; events: JobEvent[]; log: string[] }> {
  const job = startJob('test', fn);
  const events: JobEvent[] = [];
  job.on('event', (e: JobEvent) => events.push(e));
  const result = await job.promise;
  return { result, events, log: job.log };
}

/** A job's failure, with every event it sent. */
async function failure(fn: (ctx: JobContext) => Promise<unknown>) {
  const job = startJob('test', fn);
  const events: JobEvent[] = [];
  job.on('event', (e: JobEvent) => events.push(e));
  const err = await job.promise.then(
    () => undefined,
    (e: unknown) => toAtlasError(e),
  );
  expect(err, 'the job should have failed').toBeDefined();
  return { err: err!, events, log: job.log };
}

describe("recreating the user's own atlas-build VM from the template", () => {
  let dir: string;
  let library: string;
  let limaHome: string;
  let argvLog: string;
  let template: string;
  let guestWork: string;
  let lima: Limactl;

  const calls = (): string[][] =>
    existsSync(argvLog)
      ? readFileSync(argvLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as string[])
      : [];
  const verbs = (from: number) =>
    calls()
      .slice(from)
      .map((c) => c[0]);
  const guest = async (script: string, input?: string) =>
    lima.shell(VM, ['sh', '-c', script], { workdir: '/', ...(input === undefined ? {} : { input }) });
  /** As the seed has the user do it, inside Lima. */
  const putSecrets = async (content: string) => {
    expect((await guest('mkdir -p ~/atlas-build/scripts')).exitCode).toBe(0);
    expect((await guest('cat > ~/atlas-build/scripts/atlas_secrets.conf', content)).exitCode).toBe(0);
  };
  /** The file's bytes in the guest (runTool hands output back by lines: base64 keeps the last newline). */
  const guestSecrets = async () =>
    Buffer.from((await guest('base64 ~/atlas-build/scripts/atlas_secrets.conf')).stdout, 'base64').toString();
  const theirVm = async () => {
    await lima.create(VM, join(ROOT, 'test', 'fixtures', 'lima', 'ods-sd-atlas-build.yaml'));
    await run((ctx) => lima.start(VM, ctx));
    await putSecrets(CONTENT);
  };
  const lines = (events: JobEvent[]) => JSON.stringify(events);

  beforeAll(async () => {
    for (const k of KEYS) if (process.env[k] !== undefined) saved[k] = process.env[k];
    dir = scratch('recreate');
    const home = join(dir, 'home');
    library = join(home, 'atlas-build');
    for (const d of ['Documents/GitHub', 'Desktop', 'atlas-build'])
      mkdirSync(join(home, d), { recursive: true });
    mkdirSync('/tmp/lima-sd-work', { recursive: true });
    limaHome = join(dir, 'lima');
    mkdirSync(limaHome);
    argvLog = join(dir, 'limactl-argv.jsonl');
    process.env.PATH = `${DOUBLES}:${process.env.PATH}`;
    process.env.HOME = home;
    process.env.LIMA_HOME = limaHome;
    process.env.ATLAS_LIMA_DOUBLE_ARGV_LOG = argvLog;
    delete process.env.ATLAS_LIMACTL;
    delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
    // lima/atlas-build.yaml with the work folder at a guest path of this test's own.
    guestWork = join(dir, 'guest-work');
    const text = readFileSync(join(ROOT, 'lima', 'atlas-build.yaml'), 'utf8');
    const remapped = text.replace('mountPoint: /mnt/atlas-work', `mountPoint: '${guestWork}'`);
    expect(remapped).not.toBe(text);
    template = join(dir, 'atlas-build.yaml');
    writeFileSync(template, remapped);
    lima = Limactl.locate();
    expect(lima.path).toBe(join(DOUBLES, 'limactl'));
    await theirVm();
  });

  afterAll(async () => {
    delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
    await lima?.delete(VM, { force: true }).catch(() => undefined);
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('without confirmation, ods-sd vm recreate only says what would be lost and deletes nothing', async () => {
    const from = calls().length;
    const r = await odsSdInProcess(['vm', 'recreate', '--library', library, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.ok).toBe(false);
    expect(r.json.error.message).toMatch(/recreate the atlas-build VM: it is deleted.*confirm with --yes/);
    const p = r.json.result;
    expect(p).toMatchObject({ instance: VM, state: 'Running', diskBytes: 20 * 1024 ** 3, protected: false });
    expect(p.usedBytes).toBeGreaterThan(0);
    expect(p.secrets).toEqual([
      {
        path: expect.stringMatching(/^\/home\/[^/]+\.guest\/atlas-build\/scripts\/atlas_secrets\.conf$/),
        bytes: CONTENT.length,
      },
    ]);
    expect(p.lost.join('\n')).toContain('everything inside the guest that is not on a shared folder');
    expect(p.lost.join('\n')).toContain(`${p.secrets[0].path} (not on a shared folder: import it first)`);
    expect(p.sharedFolders).toEqual([
      join(process.env.HOME!, 'Documents/GitHub'),
      join(process.env.HOME!, 'Desktop'),
      '/tmp/lima-sd-work',
    ]);

    const human = await odsSdInProcess(['vm', 'recreate', '--library', library]);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain(`Recreating the ${VM} VM (Running) from Atlas Imager's template deletes:`);
    expect(human.stdout).toMatch(
      /the atlas-build VM and its disk \(21\.5 GB disk as limactl reports it, .* used on this computer\)/,
    );
    expect(human.stdout).toContain(p.secrets[0].path);
    expect(human.stderr).toContain('confirm with --yes');
    expect(`${r.stdout}${r.stderr}${human.stdout}${human.stderr}`).not.toContain(SECRET);

    expect(verbs(from)).not.toContain('stop');
    expect(verbs(from)).not.toContain('delete');
    expect(verbs(from)).not.toContain('create');
    expect((await lima.status(VM)).state).toBe('Running');
    expect(await guestSecrets()).toBe(CONTENT);
  });

  it('confirmed without a choice about the secrets found inside it, it refuses before deleting', async () => {
    const from = calls().length;
    const r = await odsSdInProcess(['vm', 'recreate', '--yes', '--library', library, '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(
      /atlas_secrets\.conf lives only inside the atlas-build VM .*: nothing was deleted/,
    );
    expect(r.json.error.hint).toMatch(/--import-secrets .* or --discard-secrets/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(verbs(from)).not.toContain('delete');
    expect(await guestSecrets()).toBe(CONTENT);
  });

  it('an atlas_secrets.conf with an empty ROOT_PASSWORD is refused, and nothing is deleted', async () => {
    await putSecrets('ROOT_PASSWORD=""\nWIFI_PSK="kept-inside"\n');
    const vault = new SecretVault(
      join(dir, 'empty', 'atlas_secrets.vault'),
      safeStorageCipher(new SafeStorageDouble(), 'darwin'),
    );
    const { err, events } = await failure((ctx) =>
      vmRecreate(lima, { library, template, importSecrets: true }, vaultStore(vault), ctx),
    );
    expect(err.message).toMatch(
      /atlas-build:.*atlas_secrets\.conf line 1 sets ROOT_PASSWORD to nothing: nothing was deleted/,
    );
    expect(lines(events)).not.toContain('kept-inside');
    expect((await vault.status()).stored).toBe(false);
    expect((await lima.status(VM)).state).toBe('Running');
    await putSecrets(CONTENT);
  });

  it('a VM Lima protects is not deleted', async () => {
    const from = calls().length;
    expect((await runTool(lima.path, ['protect', VM])).exitCode).toBe(0);
    const { err } = await failure((ctx) =>
      vmRecreate(
        lima,
        { library, template, discardSecrets: true },
        vaultStore(
          new SecretVault(join(dir, 'p.vault'), safeStorageCipher(new SafeStorageDouble(), 'darwin')),
        ),
        ctx,
      ),
    );
    expect(err.message).toBe('Lima protects the atlas-build VM from removal: nothing was deleted');
    expect(err.hint).toContain('limactl unprotect atlas-build');
    expect(verbs(from)).not.toContain('delete');
    expect((await runTool(lima.path, ['unprotect', VM])).exitCode).toBe(0);
  });

  it("confirmed with the import: the secrets go into the app's vault, never into the log; the VM is the template's", async () => {
    const from = calls().length;
    const vault = new SecretVault(
      join(dir, 'userData', 'atlas_secrets.vault'),
      safeStorageCipher(new SafeStorageDouble(), 'darwin'),
      {
        tempRoot: join(dir, 'vault-tmp'),
      },
    );
    const { result, events, log } = await run((ctx) =>
      vmRecreate(lima, { library, template, importSecrets: true }, vaultStore(vault), ctx),
    );
    // Through the store: the names in clear, the content decrypts to what was inside the guest.
    const s = await vault.status();
    expect(s).toMatchObject({ stored: true, keys: ['ROOT_PASSWORD', 'WIFI_PSK'], hasRootPassword: true });
    expect(s.importedFrom).toBe(`${VM}:${result.deleted.secrets[0]!.path}`);
    expect(await vault.withFile(async (f) => readFileSync(f, 'utf8'))).toBe(CONTENT);
    expect(result.imported).toEqual({ from: s.importedFrom, keys: ['ROOT_PASSWORD', 'WIFI_PSK'] });
    // Nowhere else.
    expect(lines(events)).not.toContain(SECRET);
    expect(log.join('\n')).not.toContain(SECRET);
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(readFileSync(vault.file, 'utf8')).not.toContain(SECRET);
    expect(log).toContain(
      `imported ${s.importedFrom} into Atlas Imager's encrypted secret store (settings: ROOT_PASSWORD, WIFI_PSK)`,
    );

    // Stopped and deleted, then created from the template and started.
    const v = verbs(from);
    expect(v.indexOf('stop')).toBeGreaterThan(-1);
    expect(v.indexOf('delete')).toBeGreaterThan(v.indexOf('stop'));
    expect(v.indexOf('create')).toBeGreaterThan(v.indexOf('delete'));
    expect(
      calls()
        .slice(from)
        .find((c) => c[0] === 'create'),
    ).toEqual([
      'create',
      `--name=${VM}`,
      '--tty=false',
      '--log-format=json',
      '--set',
      `.param.WORKDIR = "${library}"`,
      template,
    ]);
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.step.id] : []));
    expect(steps.slice(0, 4)).toEqual([
      'vm-recreate-look',
      'vm-recreate-secrets',
      'vm-recreate-delete',
      'vm-create',
    ]);
    expect(steps.at(-1)).toBe('vm-probe');

    // The double's new instance: the template's configuration, the library shared read-write.
    const y = load(readFileSync(join(limaHome, VM, 'lima.yaml'), 'utf8')) as Record<string, any>;
    const t = load(readFileSync(template, 'utf8')) as Record<string, any>;
    expect(y.images).toEqual(t.images);
    expect(y.probes).toEqual(t.probes);
    expect(y.mounts).toEqual(t.mounts);
    expect(y.param).toEqual({ WORKDIR: library });
    const status = await lima.status(VM);
    expect(status.state).toBe('Running');
    expect(templateDifferences(status.instance!)).toEqual([]);
    expect(result).toMatchObject({ instance: VM, state: 'Running', libraryInVm: guestWork, discarded: [] });
    // The new guest is empty: the old one's home went with it.
    expect((await guest('test -e ~/atlas-build/scripts/atlas_secrets.conf')).exitCode).toBe(1);
  });

  it("a stopped VM is started to look inside it; the CLI's store keeps the secrets in the library, 0600", async () => {
    await putSecrets(CONTENT);
    await lima.stop(VM);
    const store: SecretsStore = {
      import: (text, source) => importSecretsText(text, source, library),
      describe: secretsPath(library),
    };
    const { result, events, log } = await run((ctx) =>
      vmRecreate(lima, { library, template, importSecrets: true }, store, ctx),
    );
    expect(log).toContain(
      'starting atlas-build (Stopped) to look inside it for atlas_secrets.conf before it is deleted',
    );
    expect(readFileSync(secretsPath(library), 'utf8')).toBe(CONTENT);
    expect(statSync(secretsPath(library)).mode & 0o777).toBe(0o600);
    expect(result.imported?.keys).toEqual(['ROOT_PASSWORD', 'WIFI_PSK']);
    expect(lines(events)).not.toContain(SECRET);
    expect((await lima.status(VM)).state).toBe('Running');
  });

  it('a creation that fails says the old VM is already gone and what to do next', async () => {
    await putSecrets(CONTENT);
    process.env.ATLAS_LIMA_DOUBLE_FAIL = 'start-fatal';
    try {
      const { err, log } = await failure((ctx) =>
        vmRecreate(
          lima,
          { library, template, discardSecrets: true },
          { import: async () => ({ keys: [] }), describe: 'x' },
          ctx,
        ),
      );
      expect(err.message).toMatch(
        /^the old atlas-build VM is already deleted, and creating it from Atlas Imager's template failed: the atlas-build VM did not start: failed to start the VM/,
      );
      expect(err.next[0]).toEqual({ do: 'vm-setup' });
      expect(cliHint(err)).toContain('ods-sd vm setup');
      expect(log).toContain(
        'the old atlas-build VM is already deleted: set the VM up again once the cause is fixed',
      );
      expect(log.join('\n')).toContain('atlas_secrets.conf inside the VM is deleted with it, as chosen');
    } finally {
      delete process.env.ATLAS_LIMA_DOUBLE_FAIL;
    }
  });
});
