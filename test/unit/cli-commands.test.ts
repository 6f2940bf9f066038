// The ods-sd command table is the CLI: its help lists every entry, and every command refuses a wrong
// number of arguments or an option it does not know as a usage error (exit 2) naming the command,
// before it touches anything.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src-main/cli/commands.js';
import type { Command } from '../../src-main/cli/command.js';
import { odsSdInProcess as odsSd } from '../helpers/cli-in-process.js';

/** Every command that runs: the plain ones and the subcommands of a group. */
const LEAVES: Command[] = COMMANDS.flatMap((c) => (c.subcommands.length ? [...c.subcommands] : [c]));

/** How many positionals the command takes. */
function arity(c: Command): { min: number; max: number } {
  const min = c.positionals.filter((p) => !p.optional).length;
  return { min, max: c.positionals.some((p) => p.variadic) ? Infinity : c.positionals.length };
}

describe('the ods-sd command table', () => {
  it('has a name per entry, and the vm group among them', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['insert', 'clone', 'restore', 'verify', 'shrink', 'flash', 'erase', 'vm']),
    );
    expect(COMMANDS.find((c) => c.name === 'vm')?.subcommands.map((c) => c.name)).toEqual([
      'vm setup',
      'vm start',
      'vm stop',
      'vm status',
      'vm shell',
      'vm doctor',
      'vm upgrade',
      'vm recreate',
    ]);
  });

  it('ods-sd --help lists every entry with its usage and summary, and the rules they share', async () => {
    const r = await odsSd(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ods-sd ${c.usage}\n      ${c.summary}\n`);
    expect(r.stdout).toMatch(/^usage: ods-sd COMMAND \[options\]\n/);
    expect(r.stdout).toContain('A CARD is a block device (/dev/sdc, /dev/diskN) or an image file');
    for (const flag of ['--library DIR', '--json', '--yes', '--verbose', '--allow-large-disk', '--no-eject'])
      expect(r.stdout).toContain(`  ${flag} `);
    expect(r.stdout).toContain('options of restore, flash and erase:');
    expect(r.stdout).toContain(
      'A disk that holds the running system, the library or the image is never written',
    );
    // Without a command it is the same help, as a usage error.
    expect(await odsSd([])).toMatchObject({ code: 2, stdout: r.stdout });
  });

  it('ods-sd vm --help lists every vm subcommand of the table', async () => {
    const vm = COMMANDS.find((c) => c.name === 'vm')!;
    for (const args of [
      ['vm', '--help'],
      ['vm', 'help'],
    ]) {
      const r = await odsSd(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^usage: ods-sd vm setup\|start\|stop\|status\|shell\|doctor\|upgrade\|recreate\n/,
      );
      for (const c of vm.subcommands) expect(r.stdout).toContain(`  ods-sd ${c.usage}\n      ${c.summary}\n`);
    }
  });

  it.each(LEAVES.map((c) => [c.name, c] as const))(
    '%s --help: its usage, summary and options',
    async (name, c) => {
      const r = await odsSd([...name.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout.startsWith(`usage: ods-sd ${c.usage}\n${c.summary}\n`)).toBe(true);
      for (const option of Object.keys(c.options)) expect(r.stdout).toContain(`  --${option}`);
    },
  );

  it.each(LEAVES.map((c) => [c.name, c] as const))(
    '%s: a wrong number of arguments or an unknown option is a usage error naming it',
    async (name, c) => {
      const { min, max } = arity(c);
      const wrong = [...(min > 0 ? [min - 1] : []), ...(max < Infinity ? [max + 1] : [])];
      expect(wrong.length).toBeGreaterThan(0);
      for (const n of wrong) {
        const r = await odsSd([
          ...name.split(' '),
          ...Array.from({ length: n }, (_, i) => `arg${i}`),
          '--json',
        ]);
        expect(r.code, `${name} with ${n} arguments`).toBe(2);
        expect(r.json).toMatchObject({
          ok: false,
          error: { code: 'usage', hint: `usage: ods-sd ${c.usage}` },
        });
        expect(r.json.error.message).toMatch(new RegExp(`^${name} takes `));
        expect(r.stderr).toBe(`error: ${r.json.error.message}\nhint: usage: ods-sd ${c.usage}\n`);
      }
      const r = await odsSd([...name.split(' '), '--no-such-option', '--json']);
      expect(r.code).toBe(2);
      expect(r.json.error).toMatchObject({ code: 'usage', hint: `usage: ods-sd ${c.usage}` });
      expect(r.json.error.message).toMatch(new RegExp(`^${name}: Unknown option '--no-such-option'`));
    },
  );

  it('an unknown command or vm subcommand is a usage error', async () => {
    const r = await odsSd(['reboot', '--json']);
    expect(r.code).toBe(2);
    expect(r.json).toEqual({
      ok: false,
      error: { code: 'usage', message: 'unknown command "reboot"', hint: 'run ods-sd --help' },
    });
    const vm = await odsSd(['vm', 'reboot', '--json']);
    expect(vm.code).toBe(2);
    expect(vm.json.error).toMatchObject({ code: 'usage', message: 'unknown vm command "reboot"' });
    expect(await odsSd(['vm'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^error: vm needs a command\n/),
    });
  });

  it('a missing required option or a value outside its choices is a usage error', async () => {
    const insert = await odsSd(['insert', 'base.img', '--version', '1.0.0', '--tag', 'T', '--json']);
    expect(insert).toMatchObject({
      code: 2,
      json: { error: { code: 'usage', message: 'insert needs --payload' } },
    });
    const shrink = await odsSd([
      'shrink',
      'card.img',
      '--version',
      '1.0.0',
      '--tag',
      'T',
      '--compress',
      'lz4',
      '--json',
    ]);
    expect(shrink.code).toBe(2);
    expect(shrink.json.error.message).toBe('--compress must be xz or zst, not "lz4"');
  });
});
