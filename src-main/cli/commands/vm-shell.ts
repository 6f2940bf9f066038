/** `ods-sd vm shell`: a shell in the running VM, in the library folder, on the user's terminal. */
import { spawn } from 'node:child_process';
import { AtlasError } from '../../core/errors.js';
import { Limactl } from '../../core/lima/limactl.js';
import { vmShellArgs, vmStatus } from '../../core/lima/vm.js';
import { defineCommand } from '../command.js';

/** limactl with the user's terminal as its own stdio; its exit status once it ends. */
function interactive(command: string, args: string[], signal: AbortSignal): Promise<number> {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', signal });
    child.on('error', reject);
    child.on('close', (code) => done(code ?? 1));
  });
}

export const vmShellCommand = defineCommand({
  name: 'vm shell',
  summary: 'a shell in the VM, in the library folder',
  positionals: [],
  options: {},
  run: async ({ library, job }) => {
    const lima = Limactl.locate();
    const info = await vmStatus(lima, { library });
    if (info.state !== 'Running') {
      const missing = info.state === 'missing';
      throw new AtlasError(
        'tool-failed',
        `the ${info.name} VM is ${missing ? 'not created' : info.state}`,
        missing ? 'create it with: ods-sd vm setup' : 'start it with: ods-sd vm start',
      );
    }
    const { command, args } = vmShellArgs(lima, info);
    return { exitCode: await interactive(command, args, job.signal) };
  },
  interactive: (r) => r.exitCode,
  human: () => '',
});
