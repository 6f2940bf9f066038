/**
 * `ods-sd vm setup|start|stop|status|shell|doctor`: the atlas-build Lima VM that runs the disk tools
 * on a Mac. They manage the VM itself, so they never ask for the builder.
 */
import { AtlasError } from '../../core/errors.js';
import { runDoctor } from '../../core/lima/doctor.js';
import { Limactl } from '../../core/lima/limactl.js';
import { vmSetup, vmStart, vmStatus, vmStop } from '../../core/lima/vm.js';
import { defineCommand, defineGroup } from '../command.js';
import { vmUpgrade } from '../../core/lima/vm-upgrade.js';
import { recreatePreview, vmRecreate } from '../../core/lima/vm-recreate.js';
import { importSecretsText, secretsPath } from '../../core/secrets/secrets-file.js';
import { vmShellCommand } from './vm-shell.js';
import {
  doctorJson,
  doctorText,
  failedCount,
  recreatePreviewText,
  recreateText,
  statusText,
} from './vm-text.js';

const vmSetupCommand = defineCommand({
  name: 'vm setup',
  summary: 'create the atlas-build VM (sharing the library read-write) and start it',
  positionals: [],
  options: {},
  run: ({ library, job }) => vmSetup(Limactl.locate(), { library }, job),
  human: (r, { library }) => {
    const what = r.created ? 'Created and started.' : r.started ? 'Started.' : 'Already set up and running.';
    const warning = r.libraryInVm
      ? ''
      : `\nwarning: the VM does not share ${library} read-write: use a --library inside its work folder`;
    return `${statusText(r)}\n${what}${warning}`;
  },
});

const vmStartCommand = defineCommand({
  name: 'vm start',
  summary: 'start the VM (a broken VM is stopped forcibly first)',
  positionals: [],
  options: {},
  run: ({ library, job }) => vmStart(Limactl.locate(), job, { library }),
  human: (r) => {
    const what = r.recovered
      ? 'It was broken: stopped forcibly and started again.'
      : r.started
        ? 'Started.'
        : 'It was running already.';
    return `${statusText(r)}\n${what}`;
  },
});

const vmStopCommand = defineCommand({
  name: 'vm stop',
  summary: 'stop the VM (--force for a VM that does not stop)',
  positionals: [],
  options: { force: { type: 'boolean', help: 'stop it forcibly (limactl stop -f)' } },
  run: ({ options }) => vmStop(Limactl.locate(), { force: options.force }),
  human: (r) => `${statusText(r)}\n${r.stopped ? 'Stopped.' : 'It was stopped already.'}`,
});

const vmStatusCommand = defineCommand({
  name: 'vm status',
  summary: 'the state of the VM and the folders it shares',
  positionals: [],
  options: {},
  run: ({ library }) => vmStatus(Limactl.locate(), { library }),
  human: statusText,
});

const vmDoctorCommand = defineCommand({
  name: 'vm doctor',
  summary: 'check Lima, the VM, its tools, the shared folder, free space and card access',
  positionals: [],
  options: {},
  run: ({ library, job }) => runDoctor({ library }, job),
  human: doctorText,
  json: doctorJson,
  failure: (r) =>
    failedCount(r) === 0
      ? undefined
      : new AtlasError(
          'checklist-failed',
          `${failedCount(r)} of ${r.checks.length} checks did not pass`,
          'follow the fix of each failed check',
        ),
});

const vmUpgradeCommand = defineCommand({
  name: 'vm upgrade',
  summary:
    "a VM not made from Atlas Imager's template (tools/atlas-build.yaml's), upgraded in place: its missing tools installed (Debian or Ubuntu), the library shared while it is stopped; nothing is deleted",
  positionals: [],
  options: {},
  run: ({ library, job }) => vmUpgrade(Limactl.locate(), { library }, job),
  human: (x) =>
    [
      x.differences.length
        ? `The ${x.instance} VM differs from Atlas Imager's template:\n${x.differences.map((d) => `  ${d.what}: ${d.theirs} (ours: ${d.ours})`).join('\n')}`
        : `The ${x.instance} VM was made from Atlas Imager's template.`,
      x.distro === undefined
        ? '  tools: not checked (the VM is not running: start it, then upgrade again)'
        : x.installed.length
          ? `  installed in the ${x.distro} guest: ${x.installed.join(' ')}`
          : `  tools: every one is installed in the ${x.distro} guest`,
      `  work folder: ${x.mount.detail}`,
    ].join('\n'),
});

const vmRecreateCommand = defineCommand({
  name: 'vm recreate',
  summary:
    "delete the VM and create it again from Atlas Imager's template, after saying what is lost and asking; an atlas_secrets.conf that lives only inside it is found first, and imported into the library with --import-secrets",
  positionals: [],
  options: {
    'import-secrets': {
      type: 'boolean',
      help: 'import an atlas_secrets.conf found inside the old VM into the library (scripts/, 0600) before deleting it',
    },
    'discard-secrets': {
      type: 'boolean',
      help: 'let an atlas_secrets.conf found inside the old VM go with it',
    },
  },
  destructive: () =>
    'recreate the atlas-build VM: it is deleted, with everything inside it that is not on a shared folder',
  declined: 'not confirmed: nothing was deleted',
  preview: async ({ options }) => {
    const p = await recreatePreview(Limactl.locate());
    const undecided = p.secrets.length > 0 && !options['import-secrets'] && !options['discard-secrets'];
    return {
      text: recreatePreviewText(p),
      result: p,
      ...(undecided
        ? {
            choice: {
              question: `Import ${p.secrets[0]!.path} from the VM into the library's atlas_secrets.conf first (otherwise it is deleted with the VM)?`,
              yes: { 'import-secrets': true },
              no: { 'discard-secrets': true },
            },
          }
        : {}),
    };
  },
  preflight: async ({ options }) => {
    if (options['import-secrets'] && options['discard-secrets']) {
      throw new AtlasError('usage', '--import-secrets and --discard-secrets exclude each other');
    }
  },
  run: ({ library, options, job }) =>
    vmRecreate(
      Limactl.locate(),
      { library, importSecrets: options['import-secrets'], discardSecrets: options['discard-secrets'] },
      {
        import: (text, source) => importSecretsText(text, source, library),
        describe: secretsPath(library),
      },
      job,
    ),
  human: recreateText,
});

export const vmCommand = defineGroup({
  name: 'vm',
  summary: 'the atlas-build Lima VM that runs the disk tools on a Mac',
  subcommands: [
    vmSetupCommand,
    vmStartCommand,
    vmStopCommand,
    vmStatusCommand,
    vmShellCommand,
    vmDoctorCommand,
    vmUpgradeCommand,
    vmRecreateCommand,
  ],
});
