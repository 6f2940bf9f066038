// The limactl wrapper's parsing and errors, without a VM: limactl list --json output
// (sample: test/fixtures/recorded/lima-list.jsonl) and what each VM state tells the user.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import { Limactl, parseListJson, vmNotRunning } from '../../src-main/core/lima/limactl.js';
import { ROOT } from '../helpers/fixtures.js';

const listOutput = readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', 'lima-list.jsonl'), 'utf8');

describe('limactl list --json', () => {
  it('parses one instance per line', () => {
    const list = parseListJson(listOutput);
    expect(list.map((i) => [i.name, i.status])).toEqual([
      ['atlas-build', 'Running'],
      ['probe', 'Broken'],
    ]);
    expect(list[0]).toMatchObject({
      vmType: 'vz',
      arch: 'aarch64',
      cpus: 2,
      memory: 2147483648,
      limaVersion: '2.2.0',
    });
    expect(list[1]?.errors?.[0]).toMatch(/lima.yaml: no such file/);
  });

  it('also reads a single pretty-printed instance (what a terminal gets)', () => {
    const one = JSON.stringify(JSON.parse(listOutput.split('\n')[0]!), null, 4);
    expect(parseListJson(one)[0]?.name).toBe('atlas-build');
  });

  it('treats no output as no instances and refuses anything that is not JSON', () => {
    expect(parseListJson('\n')).toEqual([]);
    expect(() => parseListJson('NAME STATUS\natlas-build Running')).toThrow(AtlasError);
  });
});

describe('a VM that cannot run commands', () => {
  it('says what to do for each state', () => {
    expect(vmNotRunning('atlas-build', { state: 'missing' })).toMatchObject({
      code: 'not-found',
      message: 'the atlas-build VM does not exist',
      next: [{ do: 'vm-setup' }],
    });
    expect(vmNotRunning('atlas-build', { state: 'Stopped' })).toMatchObject({
      message: 'the atlas-build VM is stopped',
      next: [{ do: 'vm-start' }],
    });
    const broken = vmNotRunning('atlas-build', {
      state: 'Broken',
      cause: 'host agent is running but driver is not',
    });
    expect(broken.message).toBe('the atlas-build VM is broken: host agent is running but driver is not');
    expect(broken.next).toEqual([{ do: 'vm-start' }, { do: 'vm-doctor' }]);
    expect(vmNotRunning('atlas-build', { state: 'Installing' }).message).toMatch(/still being set up/);
  });
});

describe('limactl command lines', () => {
  const lima = new Limactl('/opt/homebrew/bin/limactl');

  it('puts the flags before the instance name and every value in its own argument', () => {
    expect(lima.shellArgs('atlas-build', ['sudo', 'bash', '/w/a b.sh', '$(reboot)'], '/w')).toEqual([
      'shell',
      '--workdir=/w',
      '--tty=false',
      'atlas-build',
      '--',
      'sudo',
      'bash',
      '/w/a b.sh',
      '$(reboot)',
    ]);
    expect(lima.interactiveShellArgs('atlas-build', '/w')).toEqual(['shell', '--workdir=/w', 'atlas-build']);
  });

  it('refuses instance names Lima would not accept', () => {
    expect(() => lima.shellArgs('../x', ['true'], '/')).toThrow(/invalid Lima instance name/);
    expect(() => lima.shellArgs('vm.yaml', ['true'], '/')).toThrow(/invalid Lima instance name/);
  });
});

describe('limactl create: checked before limactl runs', () => {
  const saved = process.env.LIMA_HOME;
  afterEach(() => {
    if (saved === undefined) delete process.env.LIMA_HOME;
    else process.env.LIMA_HOME = saved;
  });
  // This limactl does not exist: a check that ran limactl would fail with missing-tool instead.
  const absent = new Limactl('/nonexistent/limactl');
  const template = join(mkdtempSync(join(tmpdir(), 'atlas-tpl-')), 'atlas-build.yaml');
  writeFileSync(template, 'vmType: vz\n');

  it('refuses a LIMA_HOME too long for the sockets, pointing at LIMA_HOME', async () => {
    process.env.LIMA_HOME = `/${'x'.repeat(90)}`;
    await expect(absent.create('atlas-build', template)).rejects.toMatchObject({
      code: 'bad-input',
      hint: expect.stringMatching(/LIMA_HOME/),
    });
  });

  it('refuses a work folder that cannot be written as a yq string', async () => {
    process.env.LIMA_HOME = '/tmp/lh';
    await expect(absent.create('atlas-build', template, { workdir: 'relative/dir' })).rejects.toMatchObject({
      code: 'bad-input',
    });
    await expect(absent.create('atlas-build', template, { workdir: '/a"b' })).rejects.toMatchObject({
      code: 'bad-input',
    });
    await expect(absent.create('atlas-build', '/nonexistent/template.yaml')).rejects.toMatchObject({
      code: 'not-found',
    });
  });

  it('reports a limactl that is not there as a missing tool', async () => {
    process.env.LIMA_HOME = '/tmp/lh';
    await expect(absent.version()).rejects.toMatchObject({ code: 'missing-tool' });
  });
});
