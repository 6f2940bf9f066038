// lima/scripts/atlas-run.sh: starts a builder script in its own process group, records the
// group id for cancellation, refuses what is not a builder script, and honours an early cancel.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';

/** A scripts folder with atlas-run.sh and a script that reports its pid/pgid, then sleeps. */
function scriptsFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-run-'));
  copyFileSync(join(ROOT, 'lima', 'scripts', 'atlas-run.sh'), join(dir, 'atlas-run.sh'));
  writeFileSync(
    join(dir, 'probe_me.sh'),
    [
      'set -eu',
      'stat=$(</proc/$$/stat); read -r -a f <<<"${stat##*) }"',
      'echo "pid=$$ pgid=${f[2]} args=$*"',
      'grep -q "^SigIgn:.*" /proc/$$/status && echo "sigign=$(awk \'/^SigIgn/ {print $2}\' /proc/$$/status)"',
      'if [ "${1:-}" = wait ]; then sleep 30 & wait; fi',
    ].join('\n'),
  );
  return dir;
}

function waitFor(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (existsSync(path)) return resolve();
      if (Date.now() - started > 5000) return reject(new Error(`${path} did not appear`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('atlas-run.sh', () => {
  it('runs the script as the leader of its own process group and writes that id to PIDFILE', () => {
    const dir = scriptsFolder();
    const pidfile = join(dir, 'run.pid');
    // Started as a plain child (not a group leader), as under sshd and sudo.
    const r = spawnSync(
      'bash',
      ['-c', 'bash "$@"; exit $?', 'sh', join(dir, 'atlas-run.sh'), pidfile, 'probe_me.sh', 'a b', '$(x)'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const m = /pid=(\d+) pgid=(\d+) args=a b \$\(x\)/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(m![1]).toBe(m![2]);
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(m![1]);
    // SIGPIPE (signal 13, bit 12) is ignored so a lost reader ends the script through its traps.
    const ign = /sigign=([0-9a-f]+)/.exec(r.stdout)?.[1];
    expect((BigInt(`0x${ign}`) >> 12n) & 1n).toBe(1n);
  });

  it('a kill of the recorded group stops the script and everything it started', async () => {
    const dir = scriptsFolder();
    const pidfile = join(dir, 'run.pid');
    const child = spawn('bash', [join(dir, 'atlas-run.sh'), pidfile, 'probe_me.sh', 'wait'], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))),
    );
    await waitFor(pidfile);
    const pgid = Number(readFileSync(pidfile, 'utf8'));
    // Live members of the group (a killed process whose parent is gone may linger as a zombie).
    const members = () =>
      spawnSync('ps', ['-o', 'pid=,stat=', '-g', String(pgid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l))
        .join('\n');
    // The script and its sleep, once the script has got that far.
    await expect.poll(() => members().split('\n').length).toBeGreaterThanOrEqual(2);
    process.kill(-pgid, 'SIGTERM');
    expect(await exited).not.toBe(0);
    // Every member ends (a signalled one may take a moment to be scheduled and die).
    await expect.poll(members).toBe('');
  });

  it('does not start the script when the app cancelled before it began', () => {
    const dir = scriptsFolder();
    const pidfile = join(dir, 'run.pid');
    writeFileSync(`${pidfile}.cancel`, '');
    const r = spawnSync('bash', [join(dir, 'atlas-run.sh'), pidfile, 'probe_me.sh'], { encoding: 'utf8' });
    expect(r.status).toBe(130);
    expect(r.stdout).not.toMatch(/pid=/);
  });

  it('refuses a script outside its folder and a pid file that is not one', () => {
    const dir = scriptsFolder();
    for (const [pidfile, script, reason] of [
      [join(dir, 'run.pid'), '../probe_me.sh', 'bad-input not a builder script name'],
      [join(dir, 'run.pid'), 'missing.sh', 'not-found no builder script missing.sh'],
      ['relative.pid', 'probe_me.sh', 'bad-input PIDFILE must be an absolute path'],
      [join(dir, 'etc-shadow'), 'probe_me.sh', 'bad-input PIDFILE must be an absolute path ending in .pid'],
      [join(dir, 'no', 'such', 'x.pid'), 'probe_me.sh', 'not-found no folder for the PIDFILE'],
    ]) {
      const r = spawnSync('bash', [join(dir, 'atlas-run.sh'), pidfile!, script!], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toContain(`@@ATLAS fail ${reason}`);
    }
  });
});
