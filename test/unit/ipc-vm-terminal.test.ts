// The VM side of the contract: the Linux host needs no VM; on a Mac the atlas-build Lima VM
// (driven here through test/doubles/bin/limactl, which runs the "VM" on this machine) is set up,
// started and stopped as jobs; the terminal is node-pty running `limactl shell` or a host shell.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Builder, ScriptOutcome } from '../../src-main/core/builder/builder.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { Limactl } from '../../src-main/core/lima/limactl.js';
import type { EventMap } from '../../src-main/common/contract.js';
import { limaVm, localHostVm } from '../../src-main/app/vm-backend.js';
import { TerminalSessions, type ShellCommand } from '../../src-main/app/terminal-sessions.js';
import { ROOT, scratch } from '../helpers/fixtures.js';

type TermEvent = {
  channel: 'terminal:data' | 'terminal:exit';
  payload: EventMap['terminal:data' | 'terminal:exit'];
};

function terminals(): { sessions: TerminalSessions; events: TermEvent[]; output: (id: string) => string } {
  const events: TermEvent[] = [];
  const sessions = new TerminalSessions((channel, payload) => events.push({ channel, payload }));
  const output = (id: string) =>
    events
      .filter((e) => e.channel === 'terminal:data' && e.payload.id === id)
      .map((e) => (e.payload as EventMap['terminal:data']).data)
      .join('');
  return { sessions, events, output };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('terminal sessions (node-pty)', () => {
  const bash: ShellCommand = {
    file: '/bin/bash',
    args: ['--norc', '--noprofile', '-i'],
    cwd: '/tmp',
    title: 'bash',
  };

  it('streams output, takes input and size, and reports the exit', async () => {
    const { sessions, events, output } = terminals();
    const { id, title } = sessions.open(bash, 90, 30);
    expect(title).toBe('bash');
    sessions.resize(id, 100, 40);
    sessions.input(id, 'echo "cols=$(tput cols) pty-$((2+3))"\r');
    await until(() => output(id).includes('cols=100 pty-5'), 'the echo');
    sessions.input(id, 'exit 7\r');
    await until(() => events.some((e) => e.channel === 'terminal:exit'), 'the exit');
    expect(events.at(-1)).toEqual({ channel: 'terminal:exit', payload: { id, exitCode: 7 } });
    expect(sessions.count).toBe(0);
    expect(() => sessions.input(id, 'x')).toThrow(/this terminal has ended/);
  });

  it('close ends the process; closeAll ends every session', async () => {
    const { sessions, events } = terminals();
    const a = sessions.open(bash, 80, 24);
    sessions.open(bash, 80, 24);
    sessions.close(a.id);
    sessions.closeAll();
    expect(sessions.count).toBe(0);
    await until(() => events.filter((e) => e.channel === 'terminal:exit').length === 2, 'two exits');
  });

  it('close kills a process that ignores the hangup', async () => {
    const { sessions, events } = terminals();
    const stubborn = sessions.open(
      { ...bash, args: ['--norc', '--noprofile', '-c', 'trap "" HUP; echo ready; sleep 60'] },
      80,
      24,
    );
    // The terminal's output as a whole: a pty may hand a line over in pieces.
    const output = () =>
      events
        .filter((e) => e.channel === 'terminal:data')
        .map((e) => (e.payload as { data: string }).data)
        .join('');
    await until(() => output().includes('ready'), 'the trap to be set');
    const closedAt = Date.now();
    sessions.close(stubborn.id);
    await until(() => events.some((e) => e.channel === 'terminal:exit'), 'the kill');
    // Not the hangup (ignored): the kill after the grace period.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(1_500);
  });

  it('says what went wrong when the shell cannot start', () => {
    const { sessions } = terminals();
    expect(() => sessions.open({ ...bash, file: '/nonexistent/limactl' }, 80, 24)).toThrow(/could not start/);
  });
});

describe('a Linux build host (no VM)', () => {
  const builder: Builder = {
    kind: 'local',
    seesHostDevices: true,
    describe: () => 'this Linux host',
    toBuilderPath: (p) => p,
    stageSecrets: async (p) => p,
    runScript: async (script): Promise<ScriptOutcome> => {
      expect(script).toBe('tool_versions.sh');
      return { events: [], log: [], results: new Map([['tool', ['partclone 0.3.23', 'pigz missing']]]) };
    },
  };

  it('reports that no VM is needed, and refuses VM jobs with the reason', async () => {
    const vm = localHostVm(builder);
    expect(await vm.status()).toMatchObject({ needed: false, state: 'not-needed', terminal: true });
    await expect(startJob('setup', (ctx) => vm.setup(ctx)).promise).rejects.toMatchObject({
      code: 'unsupported',
      hint: expect.stringMatching(/for Macs/),
    });
  });

  it('the doctor checks the disk tools, with the way to install a missing one', async () => {
    expect(await localHostVm(builder).doctor()).toEqual({
      ok: false,
      findings: [
        { id: 'tool-partclone', ok: true, severity: 'info', message: 'partclone 0.3.23' },
        {
          id: 'tool-pigz',
          ok: false,
          severity: 'error',
          message: 'pigz is not installed',
          hint: 'install the disk tools: sudo bash scripts/setup.sh',
        },
      ],
    });
  });
});

describe('a Mac: the atlas-build Lima VM (through the limactl test double)', () => {
  const limactl = new Limactl(join(ROOT, 'test', 'doubles', 'bin', 'limactl'));
  let library: string;
  let limaHome: string;
  const saved = process.env.LIMA_HOME;

  beforeAll(() => {
    library = join(scratch('ipc-vm'), 'atlas-build');
    limaHome = mkdtempSync('/tmp/alh-');
    process.env.LIMA_HOME = limaHome;
  });

  afterAll(async () => {
    await limactl.delete('atlas-build', { force: true }).catch(() => undefined);
    if (saved === undefined) delete process.env.LIMA_HOME;
    else process.env.LIMA_HOME = saved;
    rmSync(limaHome, { recursive: true, force: true });
  });

  it('says how to install Lima when limactl is missing', async () => {
    const status = await limaVm(library, () => undefined).status();
    expect(status).toMatchObject({ needed: true, state: 'no-limactl', terminal: false });
    expect(status.detail).toMatch(/brew install lima/);
  });

  it('sets the VM up, opens a terminal in it, and stops it', async () => {
    const vm = limaVm(library, () => limactl);
    expect(await vm.status()).toMatchObject({ state: 'not-created', terminal: false });
    await expect(vm.shell()).rejects.toMatchObject({ message: expect.stringMatching(/not running/) });

    const setup = await startJob('setup', (ctx) => vm.setup(ctx)).promise;
    expect(setup).toMatchObject({ needed: true, name: 'atlas-build', state: 'running', terminal: true });
    // The template shares the library at a guest path of its own, outside the read-only home.
    expect(setup.detail).toContain('the library is /mnt/atlas-work in the VM');

    const shell = await vm.shell();
    expect(shell.file).toBe(limactl.path);
    expect(shell.args).toEqual(['shell', '--workdir=/mnt/atlas-work', 'atlas-build']);
    const { sessions, output } = terminals();
    const { id } = sessions.open(shell, 80, 24);
    sessions.input(id, 'echo "in-vm:$(pwd)"\r');
    await until(() => output(id).includes('in-vm:/mnt/atlas-work'), 'the shell in the VM');
    sessions.closeAll();

    const stopped = await startJob('stop', (ctx) => vm.stop(ctx)).promise;
    expect(stopped.state).toBe('stopped');
    expect((await vm.status()).state).toBe('stopped');
  }, 60_000);

  it('maps the doctor checks onto findings, failures with their fix', async () => {
    const report = await limaVm(library, () => limactl).doctor();
    const ids = report.findings.map((f) => f.id);
    expect(ids).toEqual(expect.arrayContaining(['limactl', 'vm']));
    for (const f of report.findings) {
      expect(f.message.length).toBeGreaterThan(0);
      if (!f.ok) expect(['error', 'warn']).toContain(f.severity);
    }
    // The VM is stopped (previous test): the doctor says so and what to do.
    const vmFinding = report.findings.find((f) => f.id === 'vm')!;
    expect(vmFinding.ok).toBe(false);
    expect(vmFinding.hint ?? vmFinding.next).toBeTruthy();
  }, 60_000);
});
