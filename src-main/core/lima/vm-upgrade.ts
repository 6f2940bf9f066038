/**
 * Upgrades a VM that was not made from our template (the user's own tools/atlas-build.yaml) in
 * place, without deleting it: the disk tools it lacks are installed in that guest (Debian or Ubuntu:
 * apt-get), and the library is shared with it as the work folder (`limactl edit`, only while it is
 * stopped: Lima sets shared folders up when a VM starts, so a mount cannot be added to a running VM).
 */
import { resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { Limactl } from './limactl.js';
import { sharedFolders } from './shared-folders.js';
import { TEMPLATE_PACKAGES, templateDifferences } from './template-check.js';
import type { VmUpgradeResult } from '../../common/results.js';
import { VM_NAME } from './lima-builder.js';

export { type VmUpgradeResult } from '../../common/results.js';

function osReleaseId(text: string): string | undefined {
  const m = /^ID=("?)([a-z0-9._-]+)\1$/m.exec(text);
  return m?.[2];
}

export async function vmUpgrade(
  lima: Limactl,
  o: { library: string; instance?: string },
  ctx: JobContext,
): Promise<VmUpgradeResult> {
  const name = o.instance ?? VM_NAME;
  const library = resolve(o.library);
  const status = await lima.status(name);
  if (!status.instance || status.state === 'missing') {
    throw new AtlasError(
      'not-found',
      `the ${name} VM does not exist: there is nothing to upgrade`,
      undefined,
      {
        next: [{ do: 'vm-setup' }],
      },
    );
  }
  const differences = templateDifferences(status.instance);
  const result: VmUpgradeResult = {
    instance: name,
    differences,
    installed: [],
    mount: { state: 'already', detail: '' },
  };
  const running = status.state === 'Running';

  if (running) {
    ctx.step('tools', `Installing the missing disk tools in the ${name} VM`);
    const shell = (cmd: string[]) => lima.shell(name, cmd, { workdir: '/', signal: ctx.signal });
    const os = await shell(['cat', '/etc/os-release']);
    const id = osReleaseId(os.stdout);
    if (id !== 'debian' && id !== 'ubuntu') {
      throw new AtlasError(
        'unsupported',
        `the ${name} VM runs ${id ?? 'an unknown system'}: only Debian and Ubuntu guests can be upgraded in place`,
        "recreate it from Atlas Imager's template",
        { next: [{ do: 'vm-recreate', instance: name, library }] },
      );
    }
    result.distro = id;
    const query = await shell([
      'dpkg-query',
      '-W',
      '-f=${Package} ${db:Status-Status}\\n',
      ...TEMPLATE_PACKAGES,
    ]);
    const have = new Set(
      query.stdout
        .split('\n')
        .map((l) => l.split(' '))
        .filter(([, st]) => st === 'installed')
        .map(([p]) => p),
    );
    const missing = TEMPLATE_PACKAGES.filter((p) => !have.has(p));
    if (missing.length) {
      const update = await shell(['sudo', 'apt-get', 'update', '-qq']);
      if (update.exitCode !== 0) ctx.log(`apt-get update: ${update.stderr.trim()}`);
      const install = await shell([
        'sudo',
        'env',
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        'install',
        '-y',
        '--no-install-recommends',
        ...missing,
      ]);
      if (install.exitCode !== 0) {
        throw new AtlasError(
          'tool-failed',
          `apt-get could not install ${missing.join(' ')} in the ${name} VM: ${install.stderr.trim().split('\n').at(-1) ?? ''}`,
        );
      }
      result.installed = missing;
    }
  }

  const work = sharedFolders(status.instance).find((f) => f.host === library && f.writable);
  if (work) {
    result.mount = { state: 'already', detail: `${library} is shared with the VM, writable` };
  } else if (running) {
    result.mount = {
      state: 'not-now',
      detail: `${library} is not shared with the VM, and a mount cannot be added to a running VM (Lima sets shared folders up when the VM starts): stop the VM, upgrade again, then start it`,
    };
  } else {
    ctx.step('mount', `Sharing ${library} with the ${name} VM (limactl edit)`);
    await lima.addWorkMount(name, library);
    result.mount = {
      state: 'added',
      detail: `${library} is now shared with the VM, writable, from its next start`,
    };
  }
  return result;
}
