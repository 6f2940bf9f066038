// test/vm/bin/limactl: a `limactl` front for a real VM on a Linux test box: the same command lines
// and output formats as Lima's limactl (v2.2), and as test/doubles/bin/limactl (what the two share
// is in common.mjs), but `start` boots a Debian guest in QEMU and `shell` runs the command in it
// over ssh. See test/vm/README.md.
//
//   create   copies the template to $LIMA_HOME/NAME/lima.yaml (applying --set '.param.X = "v"')
//   start    builds (or takes from the cache) the disk image, boots it with QEMU (KVM when
//            /dev/kvm works, else TCG), shares each mount over 9p at its guest mountPoint, waits
//            for ssh on 127.0.0.1, runs the template's provision scripts as root and its
//            readiness probes as the default user
//   stop     powers the guest off (-f: kills QEMU)
//   shell    ssh to the guest's default user, in --workdir; exit code passed through, 255 when
//            ssh fails
//
// Environment: LIMA_HOME (instances), ATLAS_TESTVM_CACHE (disk images, default
// /var/cache/atlas-imager-testvm), ATLAS_TESTVM_ACCEL=kvm|tcg (default: kvm when it works),
// ATLAS_TESTVM_CPUS / ATLAS_TESTVM_MEMORY (override the template's), ATLAS_LIMA_DOUBLE_ARGV_LOG=FILE
// (every invocation's argv appended as a JSON line, as the double does), ATLAS_TESTVM_OWNER_PID
// (QEMU is killed when that process is gone).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  beginStart,
  bytesOf,
  filledConfig as limaConfig,
  hostAgentLog,
  inInst,
  instanceJson,
  limaHome,
  log,
  main as runLimactl,
  q,
  shellTarget,
  startFailed,
  stateFile,
} from './common.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const IMAGE_DIR = resolve(HERE, '..', 'vm', 'image');
// The guest's default user: Lima names it after the host user and gives it the host uid; on a Mac
// that is typically uid 501. This box runs the tests as root, which Lima refuses, so the user is
// "lima" (Lima's fallback name) with the Mac's uid.
const GUEST_USER = 'lima';
const GUEST_UID = 501;

const store = stateFile('atlas-vm.json', () => ({ status: 'Stopped' }));

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a recycled pid is not our QEMU.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return cmd.includes('qemu-system') && stat.split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Status as Lima derives it: Running needs a live VM process; a dead one left behind is Broken. */
function status(name) {
  const s = store.read(name);
  if (s.status === 'Running' && !alive(s.pid)) {
    return { ...s, status: 'Broken', errors: ['the QEMU process has exited'] };
  }
  return s;
}

/** The template with Lima's defaults for what is used here (pkg/limayaml/defaults.go). */
function filledConfig(name) {
  return limaConfig(
    name,
    (y) => ({
      // This front runs QEMU whatever the template asks for (vz on a Mac).
      vmType: 'qemu',
      arch: 'x86_64',
      // No more vCPUs than the test box has cores: emulated (TCG) vCPUs beyond them only contend.
      cpus: Number(process.env.ATLAS_TESTVM_CPUS || Math.min(y.cpus || 2, availableParallelism())),
      memory: process.env.ATLAS_TESTVM_MEMORY || y.memory || '2GiB',
      disk: y.disk ?? '100GiB',
      mountType: '9p',
    }),
    { tildeInMountPoint: true },
  );
}

class StartFailure extends Error {}

// ---------------------------------------------------------------- the disk image
const cacheRoot = () => process.env.ATLAS_TESTVM_CACHE || '/var/cache/atlas-imager-testvm';

/** The disk tools the template's provision script installs (its ATLAS_PACKAGES list). */
function templatePackages(config) {
  const out = [];
  for (const p of config.provision ?? []) {
    const m = /ATLAS_PACKAGES=\(([^)]*)\)/.exec(p.script ?? '');
    if (m) out.push(...m[1].split(/\s+/).filter(Boolean));
  }
  return out;
}

/** The image's cache key: a hash of its recipe (every file in test/vm/image) and its packages. */
function recipeHash(packages) {
  const h = createHash('sha256');
  for (const f of readdirSync(IMAGE_DIR).sort()) {
    h.update(f)
      .update('\0')
      .update(readFileSync(join(IMAGE_DIR, f)))
      .update('\0');
  }
  h.update(packages.join(' '));
  return h.digest('hex').slice(0, 16);
}

/** The cached image for this recipe, built first when missing (one builder at a time). */
function ensureImage(name, config) {
  const packages = templatePackages(config);
  const dir = join(cacheRoot(), recipeHash(packages));
  if (existsSync(join(dir, 'disk.qcow2'))) {
    hostAgentLog(name, [['info', `Using the cached guest image ${q(dir)}`]]);
    return dir;
  }
  mkdirSync(cacheRoot(), { recursive: true });
  hostAgentLog(name, [['info', `Building the guest image (debootstrap) into ${q(dir)}`]]);
  const t0 = Date.now();
  // flock: a second start waits for the first build and then finds the image.
  const tmp = `${dir}.partial`;
  // Images of older recipes are removed once this one is built (a running VM keeps its open file).
  const script = [
    '[ -e "$1/disk.qcow2" ] && exit 0',
    'rm -rf "$2"',
    'bash "$3" "$2" "${@:4}" && mv "$2" "$1" || exit 1',
    'for d in "${1%/*}"/*; do n=${d##*/}; if [[ $n =~ ^[0-9a-f]{16}(\\.partial)?$ && $d != "$1" ]]; then rm -rf "$d"; fi; done',
  ].join('\n');
  const r = spawnSync(
    'flock',
    [
      join(cacheRoot(), '.lock'),
      'bash',
      '-c',
      script,
      'build',
      dir,
      tmp,
      join(IMAGE_DIR, 'build-image.sh'),
      ...packages,
    ],
    { stdio: ['ignore', 'ignore', openSync(inInst(name, 'image-build.log'), 'w')] },
  );
  if (r.status !== 0 || !existsSync(join(dir, 'disk.qcow2'))) {
    const tail = readFileSync(inInst(name, 'image-build.log'), 'utf8').trim().split('\n').slice(-3).join(' ');
    throw new StartFailure(
      `failed to build the guest image: ${tail} (log: ${inInst(name, 'image-build.log')})`,
    );
  }
  hostAgentLog(name, [['info', `Built the guest image in ${Math.round((Date.now() - t0) / 1000)}s`]]);
  return dir;
}

// ---------------------------------------------------------------- ssh
function sshKey() {
  const dir = join(limaHome(), '_config');
  const key = join(dir, 'user');
  if (!existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lima', '-f', key], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new StartFailure(`ssh-keygen failed: ${r.stderr.trim()}`);
  }
  return key;
}

function sshArgs(name, port) {
  return [
    '-F',
    '/dev/null',
    '-i',
    sshKey(),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    `ControlPath=${inInst(name, 'ssh.sock')}`,
    '-o',
    'ControlMaster=auto',
    '-o',
    'ControlPersist=60',
    '-p',
    String(port),
    '-l',
    GUEST_USER,
    '127.0.0.1',
  ];
}

/** A POSIX shell word. */
const sh = (s) => (/^[A-Za-z0-9_./=:@%+,-]+$/.test(s) ? s : `'${String(s).replaceAll("'", "'\\''")}'`);

function sshRun(name, port, remote, { input, timeoutMs = 600000 } = {}) {
  return spawnSync('ssh', [...sshArgs(name, port), '-T', '--', remote], {
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

function closeMaster(name, port) {
  if (existsSync(inInst(name, 'ssh.sock'))) {
    spawnSync('ssh', [...sshArgs(name, port), '-O', 'exit'], { stdio: 'ignore', timeout: 10000 });
  }
}

// ---------------------------------------------------------------- QEMU
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/**
 * KVM when it works: /dev/kvm opens, and the guest kernel gets as far as printing its banner
 * within a few seconds (some nested set-ups open /dev/kvm but hang in the kernel's first
 * instructions). The answer is kept in $LIMA_HOME/_config/accel.
 */
function accelFor(image) {
  const env = process.env.ATLAS_TESTVM_ACCEL;
  if (env === 'kvm' || env === 'tcg') return env;
  const memo = join(limaHome(), '_config', 'accel');
  if (existsSync(memo)) return readFileSync(memo, 'utf8').trim();
  let accel = 'tcg';
  try {
    closeSync(openSync('/dev/kvm', constants.O_RDWR));
    const serial = join(limaHome(), '_config', 'kvm-probe.log');
    mkdirSync(dirname(serial), { recursive: true, mode: 0o700 });
    rmSync(serial, { force: true });
    spawnSync(
      'qemu-system-x86_64',
      [
        '-machine',
        'q35,accel=kvm',
        '-cpu',
        'host',
        '-m',
        '256M',
        '-nodefaults',
        '-display',
        'none',
        '-serial',
        `file:${serial}`,
        '-kernel',
        join(image, 'vmlinuz'),
        '-append',
        'console=ttyS0 panic=-1',
        '-no-reboot',
      ],
      { stdio: 'ignore', timeout: 15000, killSignal: 'SIGKILL' },
    );
    if (existsSync(serial) && readFileSync(serial, 'utf8').includes('Linux version')) accel = 'kvm';
  } catch {
    /* no usable /dev/kvm */
  }
  writeFileSync(memo, `${accel}\n`);
  return accel;
}

/** The instance data the guest reads at boot (test/vm/image/guest-init.sh): user, key, mounts. */
function writeCidata(name, config) {
  const dir = inInst(name, 'cidata');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const host = `lima-${name.replace(/[._]/g, '-')}`;
  writeFileSync(join(dir, 'user'), `name=${GUEST_USER}\nuid=${GUEST_UID}\nhostname=${host}\n`);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${sshKey()}.pub`));
  const lines = config.mounts.map((m, i) => {
    // eslint-disable-next-line no-control-regex
    if (/[\t\n\u0000]/.test(m.mountPoint)) throw new StartFailure(`bad mountPoint ${q(m.mountPoint)}`);
    return `mount${i}\t${m.mountPoint}\t${m.writable ? 'rw' : 'ro'}\n`;
  });
  writeFileSync(join(dir, 'mounts'), lines.join(''));
  return dir;
}

function qemuArgs(name, config, image, cidata, port) {
  const kvm = accelFor(image) === 'kvm';
  const a = [
    '-name',
    `lima-${name}`,
    '-machine',
    `q35,accel=${kvm ? 'kvm' : 'tcg'}`,
    '-cpu',
    kvm ? 'host' : 'max,-svm,-vmx',
    '-smp',
    String(config.cpus),
    '-m',
    `${Math.round(bytesOf(config.memory) / 1024 / 1024)}M`,
    '-nodefaults',
    '-display',
    'none',
    '-serial',
    `file:${inInst(name, 'serial.log')}`,
    '-kernel',
    join(image, 'vmlinuz'),
    '-initrd',
    join(image, 'initrd.img'),
    '-append',
    'root=/dev/vda rw console=ttyS0 quiet mitigations=off net.ifnames=0',
    '-drive',
    `file=${inInst(name, 'diffdisk')},if=virtio,format=qcow2,discard=unmap`,
    // The user network: only ssh forwarded, and only on the loopback address.
    '-netdev',
    `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22`,
    '-device',
    'virtio-net-pci,netdev=net0',
    '-device',
    'virtio-rng-pci',
    '-virtfs',
    `local,path=${cidata},mount_tag=cidata,security_model=none,readonly=on`,
    '-pidfile',
    inInst(name, 'qemu.pid'),
    '-daemonize',
  ];
  config.mounts.forEach((m, i) => {
    // Lima's QEMU driver shares folders as security_model=none (pkg/qemu/qemu.go).
    if (/,/.test(m.location))
      throw new StartFailure(`a shared folder with a comma cannot be shared: ${m.location}`);
    a.push(
      '-virtfs',
      `local,path=${m.location},mount_tag=mount${i},security_model=none${m.writable ? '' : ',readonly=on'}`,
    );
  });
  return { args: a, accel: kvm ? 'kvm' : 'tcg' };
}

/**
 * ATLAS_TESTVM_OWNER_PID: a test's process. A watcher kills QEMU when that process is gone (a
 * test run killed before its clean-up), and ends itself when QEMU is gone.
 */
function watchOwner(qemuPid) {
  const owner = Number(process.env.ATLAS_TESTVM_OWNER_PID);
  if (!Number.isSafeInteger(owner) || owner <= 0) return;
  const loop =
    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done; kill -KILL "$2" 2>/dev/null; exit 0';
  spawn('bash', ['-c', loop, 'atlas-testvm-watch', String(owner), String(qemuPid)], {
    detached: true,
    stdio: 'ignore',
  }).unref();
}

async function bootVm(name) {
  const config = filledConfig(name);
  const image = ensureImage(name, config);
  for (const m of config.mounts) if (m.writable) mkdirSync(m.location, { recursive: true });
  if (!existsSync(inInst(name, 'diffdisk'))) {
    const r = spawnSync(
      'qemu-img',
      [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-F',
        'qcow2',
        '-b',
        join(image, 'disk.qcow2'),
        inInst(name, 'diffdisk'),
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new StartFailure(`qemu-img create failed: ${r.stderr.trim()}`);
  }
  const cidata = writeCidata(name, config);
  const port = await freePort();
  const { args: qa, accel } = qemuArgs(name, config, image, cidata, port);
  rmSync(inInst(name, 'serial.log'), { force: true });
  rmSync(inInst(name, 'qemu.pid'), { force: true });
  hostAgentLog(name, [
    [
      'info',
      `Starting QEMU (accel ${accel}) (hint: to watch the boot progress, see ${q(inInst(name, 'serial*.log'))})`,
    ],
  ]);
  const r = spawnSync('qemu-system-x86_64', qa, { encoding: 'utf8' });
  if (r.status !== 0) throw new StartFailure(`failed to start QEMU: ${r.stderr.trim()}`);
  const pid = Number(readFileSync(inInst(name, 'qemu.pid'), 'utf8').trim());
  watchOwner(pid);
  store.write(name, { status: 'Starting', pid, sshPort: port, accel });
  return { config, pid, port };
}

async function waitForSsh(name, pid, port) {
  hostAgentLog(name, [['info', 'Waiting for the essential requirement 1 of 2: "ssh"']]);
  const deadline = Date.now() + Number(process.env.ATLAS_TESTVM_BOOT_TIMEOUT || 300) * 1000;
  for (;;) {
    if (!alive(pid)) throw new StartFailure(`QEMU exited during boot (see ${inInst(name, 'serial.log')})`);
    const r = sshRun(name, port, 'true', { timeoutMs: 20000 });
    if (r.status === 0) break;
    if (Date.now() > deadline) throw new StartFailure(`ssh did not come up: ${(r.stderr ?? '').trim()}`);
    await new Promise((res) => setTimeout(res, 1000));
  }
  hostAgentLog(name, [['info', 'The essential requirement 1 of 2 is satisfied']]);
}

/** Lima's text/template on provision and probe scripts: the variables the template uses. */
function templated(name, config, text) {
  return text
    .replace(/\{\{\s*\.Name\s*\}\}/g, name)
    .replace(/\{\{\s*\.User\s*\}\}/g, GUEST_USER)
    .replace(/\{\{\s*\.Param\.(\w+)\s*\}\}/g, (_m, k) => config.param[k] ?? '');
}

/** Runs a script in the guest from a file (so that a command in it reading stdin cannot eat it). */
function runScript(name, port, script, { asRoot, logFile }) {
  const path = `/tmp/atlas-lima-${createHash('sha256').update(script).digest('hex').slice(0, 12)}.sh`;
  const up = sshRun(name, port, `cat > ${path} && chmod 0755 ${path}`, { input: script });
  if (up.status !== 0) return up;
  const r = sshRun(name, port, `${asRoot ? 'sudo ' : ''}${path} </dev/null; rc=$?; rm -f ${path}; exit $rc`);
  appendFileSync(logFile, `${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r;
}

function provision(name, config, port) {
  hostAgentLog(name, [['info', 'Waiting for the essential requirement 2 of 2: "the provision scripts"']]);
  const logFile = inInst(name, 'provision.log');
  writeFileSync(logFile, '');
  for (const [i, p] of (config.provision ?? []).entries()) {
    if ((p.mode ?? 'system') !== 'system' && p.mode !== 'user') continue;
    const t0 = Date.now();
    const r = runScript(name, port, templated(name, config, p.script), {
      asRoot: p.mode !== 'user',
      logFile,
    });
    if (r.status !== 0) {
      const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' ');
      throw new StartFailure(`provision script ${i} failed (exit ${r.status}): ${tail} (log: ${logFile})`);
    }
    hostAgentLog(name, [['info', `provision script ${i} done in ${Math.round((Date.now() - t0) / 1000)}s`]]);
  }
  hostAgentLog(name, [['info', 'The essential requirement 2 of 2 is satisfied']]);
  for (const [i, p] of (config.probes ?? []).entries()) {
    if ((p.mode ?? 'readiness') !== 'readiness') continue;
    hostAgentLog(name, [
      ['info', `Waiting for the optional requirement ${i + 1}: ${JSON.stringify(p.description ?? '')}`],
    ]);
    const r = runScript(name, port, templated(name, config, p.script), { asRoot: false, logFile });
    if (r.status !== 0) {
      throw new StartFailure(
        `${p.description ?? 'a readiness probe'} failed: ${(r.stderr ?? '').trim()} ${p.hint ?? ''}`.trim(),
      );
    }
  }
}

function killQemu(pid) {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
}

function powerOff(name, state) {
  const { pid, sshPort } = state;
  if (alive(pid)) {
    sshRun(name, sshPort, 'sudo systemctl poweroff --no-block', { timeoutMs: 15000 });
    for (let i = 0; i < 300 && alive(pid); i++) spawnSync('sleep', ['0.1']);
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
  }
  closeMaster(name, sshPort);
  killQemu(pid);
}

function forceOff(name, state) {
  killQemu(state.pid);
  if (state.sshPort) closeMaster(name, state.sshPort);
  rmSync(inInst(name, 'ssh.sock'), { force: true });
}

// ---------------------------------------------------------------- commands
async function cmdStart(rest) {
  const name = beginStart(front, rest);
  if (name === undefined) return 0;
  let vm;
  try {
    vm = await bootVm(name);
    await waitForSsh(name, vm.pid, vm.port);
    provision(name, vm.config, vm.port);
  } catch (e) {
    if (vm) forceOff(name, { pid: vm.pid, sshPort: vm.port });
    hostAgentLog(name, [['fatal', e instanceof StartFailure ? e.message : String(e?.stack ?? e)]]);
    store.write(name, { status: 'Broken', errors: ['host agent process has exited'] });
    startFailed(name);
  }
  store.write(name, { ...store.read(name), status: 'Running' });
  log('info', `READY. Run \`limactl shell ${name}\` to open the shell.`);
  return 0;
}

function cmdShell(rest) {
  const { flags, name, command, state } = shellTarget(front, rest);
  if (state.status !== 'Running') {
    process.stderr.write(`ssh: connect to host 127.0.0.1 port ${state.sshPort ?? 0}: Connection refused\n`);
    return 255;
  }
  // cmd/limactl/shell.go: `cd WORKDIR || exit 1` (without --workdir: the host cwd, else home),
  // then the command, each argument quoted.
  const workdir = flags['--workdir']?.at(-1);
  const cd = workdir ? `cd ${sh(workdir)} || exit 1` : `cd ${sh(process.cwd())} 2>/dev/null || cd`;
  const remote = command.length ? `${cd} ; exec ${command.map(sh).join(' ')}` : `${cd} ; exec bash --login`;
  const tty = flags['--tty'] === true && process.stdin.isTTY;
  const child = spawn('ssh', [...sshArgs(name, state.sshPort), tty ? '-t' : '-T', '--', remote], {
    stdio: 'inherit',
  });
  child.on('close', (code, signal) => {
    process.exitCode = signal ? 255 : (code ?? 255);
  });
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => child.kill(s));
  return undefined;
}

/** This front, for the commands the fronts share (common.mjs). */
const front = {
  self: 'this limactl front',
  store,
  state: status,
  config: filledConfig,
  instanceJson: (name) =>
    instanceJson(front, name, (state) => ({
      sshLocalPort: state.sshPort,
      pidField: 'driverPID',
      pid: state.pid,
    })),
  protects: false,
  startDriver: () => 'qemu',
  stopDriver: () => 'QEMU',
  shutDown: powerOff,
  kill: forceOff,
  discard: (name) => forceOff(name, store.read(name)),
  commands: { start: cmdStart, shell: cmdShell },
};

export function main() {
  return runLimactl(front);
}
