// test/doubles/bin/limactl: a stand-in for Lima's `limactl` (lima-vm/lima v2.2) on a Linux test
// box, where the "VM" is this machine (what it shares with test/vm/bin/limactl is in common.mjs).
// It takes limactl's real command lines and prints limactl's real output formats (see
// test/doubles/README.md for the sources), and does the work for real where it can:
//
//   create   copies the template to $LIMA_HOME/NAME/lima.yaml (applying --set '.param.X = "v"')
//   start    bind-mounts every shared folder whose guest mountPoint differs from its host
//            location (as root), writes ha.stderr.log as the host agent does; status Running
//   stop     undoes those mounts; status Stopped (--force also clears Broken)
//   edit     applies --set '.mounts += [{...}] | .param.X = "v"' to a stopped instance's lima.yaml
//   delete   removes the instance's folder (the guest's disk, so its home too); refused while
//            running without --force, and for a protected instance
//   protect, unprotect  mark an instance protected from `delete` (the empty file `protected`)
//   shell    runs the command here, as root, in --workdir, in its own mount namespace where the
//            shared folders are mounted in template order, as Lima does, and where the
//            "guest" sees its private /var/lib/atlas-build and its own home folder (HOME, at
//            /home/USER.guest as Lima's user.home, kept in the instance's folder), and does not
//            see the host locations of remapped folders; stdin, stdout, stderr and the exit code
//            pass through. Like ssh, the command runs in its own session: killing limactl does
//            not kill it.
//
// Knobs for tests (environment):
//   ATLAS_LIMA_DOUBLE_FAIL=start-fatal  start fails: a fatal line in ha.stderr.log, status Broken
//   ATLAS_LIMA_DOUBLE_FAIL=ssh          shell fails as when ssh cannot connect (exit 255)
//   ATLAS_LIMA_DOUBLE_HIDE=DIR:DIR      host folders the guest must not see (not shared with it)
//   ATLAS_LIMA_DOUBLE_ARGV_LOG=FILE     appends every invocation's argv as one JSON line
//   ATLAS_LIMA_DOUBLE_START_HOLD=FILE   start waits at the readiness probes until FILE exists
//
// `stop` powers the "VM" off: every process of its shell sessions is killed (their limactl shell
// ends with 255, as ssh does when the VM goes away) and the loop devices they attached on files
// in the shared folders are detached, as a VM's loop devices go away with it.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch, userInfo } from 'node:os';
import { delimiter, join, relative, resolve, isAbsolute } from 'node:path';
import { dump, load } from 'js-yaml';
import {
  applySet,
  beginStart,
  exists,
  fatal,
  filledConfig as limaConfig,
  hostAgentLog,
  instDir,
  instanceJson,
  log,
  main as runLimactl,
  parseFlags,
  q,
  rawConfig,
  shellTarget,
  startFailed,
  stateFile,
  validName,
} from './common.mjs';

const SSH_PORT = 60022;
const GUEST_STATE_DIR = 'guest-var-lib-atlas-build';
const GUEST_HOME_DIR = 'guest-home'; // the guest user's home folder, on the guest's own disk
const SESSIONS_DIR = 'atlas-double-sessions'; // one file per running `shell`, named by its pid
const BASE_DISK = 'basedisk'; // pkg/limatype/filenames: the downloaded image

const store = stateFile('atlas-double.json', () => ({ status: 'Stopped', errors: [], mounted: [] }));

/**
 * The guest user's home (templates/default.yaml `user`: the host's user name when it is a valid
 * Linux name, else "lima"; home "/home/{{.User}}.guest"), unless the template sets `user.home`.
 */
function guestHome(name) {
  const y = rawConfig(name);
  const host = userInfo().username;
  const user = y.user?.name ?? (/^[a-z_][a-z0-9_-]*$/.test(host) ? host : 'lima');
  return String(y.user?.home ?? '/home/{{.User}}.guest').replace(/\{\{\s*\.User\s*\}\}/g, user);
}

/** The template with Lima's defaults for what the test double uses (pkg/limayaml/defaults.go). */
function filledConfig(name) {
  return limaConfig(name, (y) => ({
    vmType: y.vmType ?? 'qemu',
    arch: y.arch ?? (arch() === 'arm64' ? 'aarch64' : 'x86_64'),
    cpus: y.cpus ?? 4,
    memory: y.memory ?? '4GiB',
    disk: y.disk ?? '100GiB',
  }));
}

// ---------------------------------------------------------------- mounts of the "guest"
const isInside = (parent, p) => {
  const r = relative(parent, p);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
};

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${cmd} ${argv.join(' ')}: ${(r.stderr || '').trim() || `exit ${r.status}`}`);
}

function mountShared(name, state) {
  const config = filledConfig(name);
  mkdirSync('/var/lib/atlas-build', { recursive: true, mode: 0o700 }); // as the template's provision does
  mkdirSync(join(instDir(name), GUEST_STATE_DIR), { recursive: true, mode: 0o700 });
  mkdirSync(join(instDir(name), GUEST_HOME_DIR), { recursive: true, mode: 0o755 });
  for (const m of config.mounts) {
    if (m.writable) mkdirSync(m.location, { recursive: true });
    if (m.mountPoint === m.location) continue;
    mkdirSync(m.mountPoint, { recursive: true });
    run('mount', ['--bind', m.location, m.mountPoint]);
    state.mounted.push(m.mountPoint);
    if (!m.writable) run('mount', ['-o', 'remount,bind,ro', m.mountPoint]);
  }
}

function unmountShared(state) {
  for (const mp of [...(state.mounted ?? [])].reverse()) {
    spawnSync('umount', [mp]);
  }
  state.mounted = [];
}

/**
 * The shared folders as the guest mounts them: Lima writes the template's mounts into cloud-init's
 * `mounts` in template order (pkg/cidata/cidata.go, cidata.TEMPLATE.d/user-data), cloud-init turns
 * them into fstab lines in that order and `mount -a` mounts them one after the other, so a folder
 * mounted later over a guest path hides what an earlier one put there. Non-recursive binds do the
 * same here: a later bind onto a parent covers the earlier mount below it.
 */
function guestMounts(name) {
  return filledConfig(name)
    .mounts.map((m) => `${m.location}\t${m.mountPoint}\t${m.writable ? 'rw' : 'ro'}`)
    .join('\n');
}

/** Host folders the guest must not see: remapped locations, and ATLAS_LIMA_DOUBLE_HIDE. */
function hiddenFromGuest(name) {
  const out = [];
  for (const m of filledConfig(name).mounts) {
    if (m.mountPoint !== m.location && !isInside(m.location, m.mountPoint)) out.push(m.location);
  }
  for (const p of (process.env.ATLAS_LIMA_DOUBLE_HIDE ?? '').split(delimiter)) if (p) out.push(resolve(p));
  return out;
}

/** Blocks for `ms` (the double is synchronous, like the CLI it stands in for). */
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const mountNs = (pid) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
};

/**
 * The VM powers off: every process in a shell session's mount namespace is killed (scripts that
 * started their own process group too), then the loop devices attached on files in the shared
 * folders are detached, as the VM's own loop devices vanish with it.
 */
function powerOff(name) {
  const dir = join(instDir(name), SESSIONS_DIR);
  const namespaces = new Set();
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const ns = mountNs(f);
    if (ns && ns !== mountNs('self')) namespaces.add(ns);
    rmSync(join(dir, f), { force: true });
  }
  for (let round = 0; round < 3 && namespaces.size > 0; round++) {
    let found = 0;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      if (namespaces.has(mountNs(pid))) {
        found++;
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    if (found === 0) break;
    pause(200);
  }
  const shared = filledConfig(name).mounts.flatMap((m) => [m.location, m.mountPoint]);
  const loops = spawnSync('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], {
    encoding: 'utf8',
  });
  for (const l of loops.status === 0 && loops.stdout.trim() ? JSON.parse(loops.stdout).loopdevices : []) {
    const back = (l['back-file'] ?? '').replace(/ \(deleted\)$/, '');
    if (back && shared.some((d) => isInside(d, back))) spawnSync('losetup', ['-d', l.name]);
  }
}

// ---------------------------------------------------------------- commands
function cmdStart(rest) {
  const name = beginStart(front, rest);
  if (name === undefined) return 0;
  const dir = instDir(name);
  const config = filledConfig(name);
  // pkg/instance/start.go Prepare: the image is downloaded once, on the first start.
  if (!existsSync(join(dir, BASE_DISK))) {
    const image = (config.images ?? []).find((i) => (i.arch ?? config.arch) === config.arch);
    if (image) {
      const fields = { arch: config.arch, digest: image.digest ?? '', location: image.location };
      log('info', 'Attempting to download the image', fields);
      log('info', `Downloaded the image from ${JSON.stringify(image.location)}`);
    }
    writeFileSync(join(dir, BASE_DISK), '');
  }
  hostAgentLog(name, [
    [
      'info',
      `Starting ${config.vmType.toUpperCase()} (hint: to watch the boot progress, see ${q(join(dir, 'serial*.log'))})`,
    ],
    ['info', 'Waiting for the essential requirement 1 of 3: "ssh"'],
  ]);
  if (process.env.ATLAS_LIMA_DOUBLE_FAIL === 'start-fatal') {
    const cause =
      'failed to start the VM: Error Domain=VZErrorDomain Code=1 Description="Internal Virtualization error. The virtual machine failed to start."';
    hostAgentLog(name, [['fatal', cause]]);
    store.write(name, { status: 'Broken', errors: ['host agent process has exited'], mounted: [] });
    startFailed(name);
  }
  const next = { status: 'Running', errors: [], mounted: [] };
  try {
    mountShared(name, next);
  } catch (e) {
    unmountShared(next);
    hostAgentLog(name, [['fatal', `failed to mount the shared folders: ${e.message}`]]);
    store.write(name, { status: 'Broken', errors: ['host agent process has exited'], mounted: [] });
    startFailed(name);
  }
  // pkg/hostagent/requirements.go: essential (ssh, session, ControlMaster), optional (the
  // template's readiness probes), final (boot scripts, which include the provision scripts).
  hostAgentLog(name, [
    ['info', 'The essential requirement 1 of 3 is satisfied'],
    ['info', 'Waiting for the essential requirement 2 of 3: "user session is ready for ssh"'],
    ['info', 'The essential requirement 2 of 3 is satisfied'],
    ['info', 'Waiting for the essential requirement 3 of 3: "Explicitly start ssh ControlMaster"'],
    ['info', 'The essential requirement 3 of 3 is satisfied'],
  ]);
  const probes = (config.probes ?? []).filter((p) => (p.mode ?? 'readiness') === 'readiness');
  probes.forEach((p, i) => {
    hostAgentLog(name, [
      [
        'info',
        `Waiting for the optional requirement ${i + 1} of ${probes.length}: ${JSON.stringify(p.description ?? '')}`,
      ],
    ]);
    const hold = process.env.ATLAS_LIMA_DOUBLE_START_HOLD;
    for (let waited = 0; hold && !existsSync(hold); waited += 100) {
      if (waited > 120_000) fatal(`the limactl test double waited 120 s for ${hold}`);
      pause(100);
    }
    hostAgentLog(name, [['info', `The optional requirement ${i + 1} of ${probes.length} is satisfied`]]);
  });
  hostAgentLog(name, [
    ['info', 'Waiting for the final requirement 1 of 1: "boot scripts must have finished"'],
    ['info', 'The final requirement 1 of 1 is satisfied'],
  ]);
  store.write(name, next);
  log('info', `READY. Run \`limactl shell ${name}\` to open the shell.`);
  return 0;
}

/** `.mounts += [{...}]` (a JSON list) and `.param.NAME = "v"`, joined by ` | `: what vm upgrade sets. */
function applyEdit(y, expr) {
  for (const part of expr.split(' | ')) {
    const m = /^\s*\.mounts\s*\+=\s*(\[.*\])\s*$/.exec(part);
    if (m) y.mounts = [...(y.mounts ?? []), ...JSON.parse(m[1])];
    else applySet(front, y, part);
  }
}

// limactl edit INSTANCE --set EXPR: rewrites lima.yaml; Lima applies it at the next start. The
// double edits only a stopped instance (Lima sets mounts up when the VM starts).
function cmdEdit(rest) {
  const { flags, positionals } = parseFlags(rest, { value: ['--set'], bool: ['--start'] });
  const name = positionals[0];
  if (!name) fatal('the limactl test double needs `limactl edit NAME --set EXPR`');
  validName(name);
  if (!exists(name)) fatal(`instance ${q(name)} not found`);
  if (store.read(name).status === 'Running')
    fatal(`the limactl test double does not edit the running instance ${q(name)}`);
  const file = join(instDir(name), 'lima.yaml');
  const y = load(readFileSync(file, 'utf8')) ?? {};
  for (const e of flags['--set'] ?? []) applyEdit(y, e);
  writeFileSync(file, dump(y));
  return 0;
}

// Runs in the command's own mount namespace: the guest's private /var/lib/atlas-build, host
// folders hidden, then the command in the work dir, as a child of this shell (as under sshd).
// Its stdin is a pipe, as sshd gives it (Node's own stdio are sockets, which /dev/stdin
// cannot open).
const GUEST_SHELL = `
set -e
mount --bind -- "$ATLAS_DOUBLE_GUEST_STATE" /var/lib/atlas-build
mkdir -p -- "$ATLAS_DOUBLE_GUEST_HOME_DIR" "$ATLAS_DOUBLE_GUEST_HOME"
mount --bind -- "$ATLAS_DOUBLE_GUEST_HOME_DIR" "$ATLAS_DOUBLE_GUEST_HOME"
export HOME=$ATLAS_DOUBLE_GUEST_HOME
while IFS=$'\\t' read -r loc mp mode; do
  [ -n "$loc" ] || continue
  mkdir -p -- "$mp" 2>/dev/null || continue
  mount --bind -- "$loc" "$mp"
  if [ "$mode" != rw ]; then mount -o remount,bind,ro -- "$mp"; fi
done <<<"$ATLAS_DOUBLE_GUEST_MOUNTS"
while IFS= read -r h; do
  if [ -n "$h" ] && [ -d "$h" ]; then mount -t tmpfs -o ro,size=4k,mode=0555 not-shared-with-the-vm "$h"; fi
done <<<"$ATLAS_DOUBLE_GUEST_HIDE"
w=$ATLAS_DOUBLE_GUEST_WORKDIR
unset ATLAS_DOUBLE_GUEST_STATE ATLAS_DOUBLE_GUEST_MOUNTS ATLAS_DOUBLE_GUEST_HIDE ATLAS_DOUBLE_GUEST_WORKDIR
unset ATLAS_DOUBLE_GUEST_HOME ATLAS_DOUBLE_GUEST_HOME_DIR
set +e
if [ -n "$w" ]; then cd -- "$w" || exit 1; fi
cat | "$@"
exit "\${PIPESTATUS[1]}"
`;

/**
 * A guest has its own kernel: it never holds a file system the host mounted. A mount namespace
 * starts with copies of every host mount, and with private propagation (the default of a host
 * without systemd, this test box's) a copy keeps its loop device busy after the host unmounts it:
 * the host's next `e2fsck` on that device exits 8, "in use". systemd makes the host's tree shared
 * (mount_namespaces(7), "shared subtrees"); so does the double, once, so that the guest's slave
 * namespace receives the host's unmounts as they happen.
 */
function shareHostMounts() {
  const root = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === '/')
    .at(-1);
  if (root && !/ shared:\d+/.test(root.split(' - ')[0])) run('mount', ['--make-rshared', '/']);
}

function hasSudo() {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'sudo')));
}

function cmdShell(rest) {
  const { flags, name, state, ...target } = shellTarget(front, rest);
  let { command } = target;
  if (state.status !== 'Running' || process.env.ATLAS_LIMA_DOUBLE_FAIL === 'ssh') {
    process.stderr.write(`ssh: connect to host 127.0.0.1 port ${SSH_PORT}: Connection refused\n`);
    return 255;
  }
  if (command.length === 0) command = [flags['--shell']?.at(-1) ?? process.env.SHELL ?? '/bin/bash', '-l'];
  // The guest's default user has passwordless sudo; here the guest user is root already.
  if (command[0] === 'sudo' && !hasSudo()) {
    command = command.slice(1);
    while (command[0]?.startsWith('-')) command = command.slice(1);
  }
  const workdir = flags['--workdir']?.at(-1) ?? '';
  shareHostMounts();
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'slave', '--', 'bash', '-c', GUEST_SHELL, 'lima-guest', ...command],
    {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ATLAS_DOUBLE_GUEST_STATE: join(instDir(name), GUEST_STATE_DIR),
        ATLAS_DOUBLE_GUEST_HOME: guestHome(name),
        ATLAS_DOUBLE_GUEST_HOME_DIR: join(instDir(name), GUEST_HOME_DIR),
        ATLAS_DOUBLE_GUEST_MOUNTS: guestMounts(name),
        ATLAS_DOUBLE_GUEST_HIDE: hiddenFromGuest(name).join('\n'),
        ATLAS_DOUBLE_GUEST_WORKDIR: workdir,
      },
    },
  );
  const sessions = join(instDir(name), SESSIONS_DIR);
  mkdirSync(sessions, { recursive: true, mode: 0o700 });
  const session = join(sessions, String(child.pid));
  writeFileSync(session, '');
  // Proxy the streams (as ssh does) rather than hand over our own descriptors: when limactl is
  // killed, the command loses its stdout/stderr reader, exactly as with a dropped ssh session.
  child.stdin.on('error', () => undefined);
  process.stdin.on('error', () => undefined);
  process.stdin.pipe(child.stdin);
  child.stdout.pipe(process.stdout);
  child.stderr.pipe(process.stderr);
  child.on('close', (code, signal) => {
    process.stdin.unpipe(child.stdin);
    process.stdin.destroy();
    const poweredOff = !existsSync(session);
    try {
      unlinkSync(session);
    } catch {
      // removed by stop
    }
    if (poweredOff) {
      process.stderr.write('Connection to 127.0.0.1 closed by remote host.\n');
      process.exitCode = 255;
      return;
    }
    // ssh exits 255 when the remote command was killed by a signal.
    process.exitCode = signal ? 255 : (code ?? 255);
  });
  return undefined;
}

/** This front, for the commands the fronts share (common.mjs). */
const front = {
  self: 'the limactl test double',
  store,
  state: (name) => store.read(name),
  config: filledConfig,
  instanceJson: (name) =>
    instanceJson(front, name, () => ({ sshLocalPort: SSH_PORT, pidField: 'hostAgentPID', pid: process.pid })),
  protects: true,
  startDriver: (name) => filledConfig(name).vmType,
  stopDriver: (name) => filledConfig(name).vmType,
  shutDown: (name, state) => {
    powerOff(name);
    unmountShared(state);
  },
  kill: (name, state) => front.shutDown(name, state),
  discard: (name, state) => front.shutDown(name, state),
  commands: { start: cmdStart, shell: cmdShell, edit: cmdEdit },
};

export function main() {
  // The VM is Linux with its own PATH (what sshd gives a login on Lima's Ubuntu guest): the host's
  // PATH (on a Mac, only what macOS ships) says nothing about the guest's tools. The double's own
  // work (mount, losetup, unshare) is the VM's, so it runs with that PATH too.
  // A test may put stand-ins for guest tools first (LIMACTL_DOUBLE_GUEST_BIN: a folder).
  const guestBin = process.env.LIMACTL_DOUBLE_GUEST_BIN;
  process.env.PATH = `${guestBin ? `${guestBin}:` : ''}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  return runLimactl(front);
}
