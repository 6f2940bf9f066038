// What the two `limactl` fronts of the tests share: Lima's command lines (cobra/pflag flags), its
// logrus output, the instance store ($LIMA_HOME/NAME, `list --json`), `create`, `delete`,
// `protect`/`unprotect`, the checks `start`, `stop` and `shell` make before they touch the VM, and
// the dispatch of subcommands. The fronts:
//   double.mjs   test/doubles/bin/limactl, the "VM" is this machine (test/doubles/README.md)
//   qemu-vm.mjs  test/vm/bin/limactl, a Debian guest in QEMU (test/vm/README.md)
// Each one describes itself as a `front` (its name in messages, its state file, its status, its
// power-off) and hands it to main().
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { dump, load } from 'js-yaml';

export const VERSION = '2.2.0';
const UNIX_PATH_MAX = 108; // Linux (pkg/osutil/osutil_linux.go)
const LONGEST_SOCK = 'ssh.sock.1234567890123456'; // pkg/limatype/filenames
const PROTECTED = 'protected'; // pkg/limatype/filenames: an empty file, `limactl protect`

// ---------------------------------------------------------------- logging (logrus formats)
let logFormat = 'text';
/** Go's %#q of a string without backquotes. */
export const q = (s) => `\`${s}\``;

function logLine(level, msg, extra = {}) {
  const time = new Date().toISOString();
  if (logFormat === 'json') return JSON.stringify({ ...extra, level, msg, time });
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
}
export function log(level, msg, extra) {
  process.stderr.write(`${logLine(level, msg, extra)}\n`);
}
export function fatal(msg) {
  log('fatal', msg);
  process.exit(1);
}

// ---------------------------------------------------------------- flags (cobra/pflag style)
const GLOBAL_BOOL = new Set(['--tty', '--debug', '--yes', '-y']);
const GLOBAL_VALUE = new Set(['--log-format', '--log-level']);

/** Splits a command's arguments into flags and positionals; `interspersed=false` stops at the first positional. */
export function parseFlags(list, { bool = [], value = [], interspersed = true } = {}) {
  const flags = {};
  const positionals = [];
  const bools = new Set([...GLOBAL_BOOL, ...bool]);
  const values = new Set([...GLOBAL_VALUE, ...value]);
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (a === '--') {
      positionals.push(...list.slice(i + (interspersed ? 1 : 0)));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      if (!interspersed) {
        positionals.push(...list.slice(i));
        break;
      }
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (bools.has(name)) {
      flags[name] = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
    } else if (values.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : list[++i];
      if (v === undefined) fatal(`flag needs an argument: ${name}`);
      (flags[name] ??= []).push(v);
    } else {
      fatal(`unknown flag: ${name}`);
    }
  }
  const lf = flags['--log-format']?.at(-1);
  if (lf) {
    if (lf !== 'json' && lf !== 'text') fatal(`unsupported log-format: ${q(lf)}`);
    logFormat = lf;
  }
  return { flags, positionals };
}

/** `--force` or `-f`. */
const forced = (flags) => flags['--force'] === true || flags['-f'] === true;

// ---------------------------------------------------------------- the instance store
export const limaHome = () => process.env.LIMA_HOME || join(homedir(), '.lima');
export const instDir = (name) => join(limaHome(), name);
export const inInst = (name, file) => join(instDir(name), file);

export function validName(name) {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name) || /\.ya?ml$/i.test(name)) {
    fatal(`instance name ${q(name)} is not a valid identifier`);
  }
}

export const exists = (name) => existsSync(inInst(name, 'lima.yaml'));

function requireInstance(name) {
  validName(name);
  if (!exists(name)) fatal(`open ${inInst(name, 'lima.yaml')}: no such file or directory`);
}

function instanceNames() {
  if (!existsSync(limaHome())) return [];
  return readdirSync(limaHome())
    .filter((n) => !n.startsWith('_') && exists(n))
    .sort();
}

/** A front's own state file in the instance's folder; `stopped()` is the state of a new instance. */
export function stateFile(file, stopped) {
  return {
    stopped,
    read(name) {
      try {
        return JSON.parse(readFileSync(inInst(name, file), 'utf8'));
      } catch {
        return stopped();
      }
    },
    write(name, state) {
      writeFileSync(inInst(name, file), `${JSON.stringify(state)}\n`);
    },
  };
}

const isProtected = (name) => existsSync(inInst(name, PROTECTED));

export function bytesOf(size) {
  // go-units RAMInBytes: binary multiples whatever the suffix.
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(String(size ?? ''));
  if (!m) return undefined;
  const pow = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** Math.max(pow, 0));
}

export const rawConfig = (name) => load(readFileSync(inInst(name, 'lima.yaml'), 'utf8')) ?? {};

/**
 * The template with Lima's defaults for what a front uses (pkg/limayaml/defaults.go): `defaults(y)`
 * gives the machine's fields (vmType, arch, cpus, memory, disk, …, in that order); the mounts get
 * `location` templated (`{{.Param.X}}`) and `~` expanded, `mountPoint` templated (and `~` expanded
 * with `tildeInMountPoint`) defaulting to `location`, `writable` defaulting to false.
 */
export function filledConfig(name, defaults, { tildeInMountPoint = false } = {}) {
  const y = rawConfig(name);
  const param = y.param ?? {};
  const tmpl = (s) => String(s).replace(/\{\{\s*\.Param\.(\w+)\s*\}\}/g, (_m, k) => param[k] ?? '');
  const tilde = (s) => (s === '~' ? homedir() : s.startsWith('~/') ? join(homedir(), s.slice(2)) : s);
  const mounts = (y.mounts ?? []).map((m) => {
    const location = resolve(tilde(tmpl(m.location)));
    const point = (s) => (tildeInMountPoint ? tilde(tmpl(s)) : tmpl(s));
    return {
      ...m,
      location,
      mountPoint: m.mountPoint ? resolve(point(m.mountPoint)) : location,
      writable: m.writable === true,
    };
  });
  return { ...y, ...defaults(y), mounts, param };
}

/**
 * One instance as `limactl list --json` prints it (store.Instance's field order). `running(state)`
 * gives what only a running instance has: its ssh port and its pid field (`hostAgentPID` or
 * `driverPID`) with the pid.
 */
export function instanceJson(front, name, running) {
  const dir = instDir(name);
  const state = front.state(name);
  const config = front.config(name);
  const live = state.status === 'Running' ? running(state) : undefined;
  const inst = {
    name,
    hostname: `lima-${name.replace(/[._]/g, '-')}`,
    status: state.status,
    dir,
    vmType: config.vmType,
    arch: config.arch,
    cpus: config.cpus,
    memory: bytesOf(config.memory),
    disk: bytesOf(config.disk),
  };
  if (live) inst.sshLocalPort = live.sshLocalPort;
  inst.sshConfigFile = join(dir, 'ssh.config');
  if (live) inst[live.pidField] = live.pid;
  if (state.errors?.length) inst.errors = state.errors;
  inst.config = config;
  inst.sshAddress = '127.0.0.1';
  inst.protected = front.protects && isProtected(name);
  inst.limaVersion = VERSION;
  if (Object.keys(config.param).length) inst.param = config.param;
  return inst;
}

/** The host agent's own log (JSON lines); limactl relays each line with "[hostagent] ". */
export function hostAgentLog(name, lines) {
  const path = inInst(name, 'ha.stderr.log');
  for (const [level, msg] of lines) {
    appendFileSync(path, `${JSON.stringify({ level, msg, time: new Date().toISOString() })}\n`);
    // pkg/logrusutil.PropagateJSON: fatal and panic are relayed as errors, the level kept as a field.
    if (level === 'fatal' || level === 'panic') log('error', `[hostagent] ${msg}`, { 'fields.level': level });
    else log(level, `[hostagent] ${msg}`);
  }
}

/** limactl start's last line when the host agent gave up. */
export function startFailed(name) {
  fatal(
    `exiting, status={Running:false Degraded:false Exiting:true Errors:[] SSHLocalPort:0} (hint: see ${q(inInst(name, 'ha.stderr.log'))})`,
  );
}

// ---------------------------------------------------------------- commands
function cmdList(front, rest) {
  const { flags, positionals } = parseFlags(rest, {
    bool: ['--json', '--quiet', '-q', '--all-fields'],
    value: ['--format', '-f'],
  });
  const json = flags['--json'] === true || (flags['--format'] ?? flags['-f'])?.at(-1) === 'json';
  const all = instanceNames();
  if (positionals.length === 0 && all.length === 0) {
    log('warning', 'No instance found. Run `limactl create` to create an instance.');
    return 0;
  }
  let unmatched = false;
  const names = [];
  for (const n of positionals.length ? positionals : all) {
    if (all.includes(n)) names.push(n);
    else {
      log('warning', `No instance matching ${n} found.`);
      unmatched = true;
    }
  }
  for (const n of names) {
    if (json) process.stdout.write(`${JSON.stringify(front.instanceJson(n))}\n`);
    else process.stdout.write(`${n}\t${front.state(n).status}\n`);
  }
  if (unmatched) fatal('unmatched instances');
  return 0;
}

/** `--set '.param.NAME = "value"'`, the one form the fronts understand. */
export function applySet(front, y, expr) {
  const m = /^\s*\.param\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(expr);
  if (!m) fatal(`${front.self} only understands --set '.param.NAME = "value"', not ${q(expr)}`);
  y.param = { ...(y.param ?? {}), [m[1]]: JSON.parse(`"${m[2]}"`) };
}

function cmdCreate(front, rest) {
  const { flags, positionals } = parseFlags(rest, { value: ['--name', '--set'] });
  const file = positionals[0];
  const name = flags['--name']?.at(-1);
  if (!file || !name) fatal(`${front.self} needs \`limactl create --name=NAME FILE.yaml\``);
  validName(name);
  const dir = instDir(name);
  const sock = join(dir, LONGEST_SOCK);
  if (sock.length >= UNIX_PATH_MAX) {
    fatal(
      `instance name ${q(name)} too long: ${q(sock)} must be less than UNIX_PATH_MAX=${UNIX_PATH_MAX} characters, but is ${sock.length}`,
    );
  }
  if (existsSync(dir)) fatal(`instance ${q(name)} already exists (${q(dir)})`);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fatal(`open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  }
  const y = load(text) ?? {};
  for (const s of flags['--set'] ?? []) applySet(front, y, s);
  if (flags['--tty'] !== true) log('info', 'Terminal is not available, proceeding without opening an editor');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'lima.yaml'), dump(y));
  front.store.write(name, front.store.stopped());
  log('info', `Run \`limactl start ${name}\` to start the instance.`);
  return 0;
}

/**
 * `start NAME` up to the boot: a running instance is left as it is (undefined), one that is neither
 * running nor stopped is refused; else the host agent's log starts anew and the name is returned.
 */
export function beginStart(front, rest) {
  const { positionals } = parseFlags(rest, {
    bool: ['--foreground', '--progress'],
    value: ['--timeout', '--name'],
  });
  const name = positionals[0];
  if (!name)
    fatal(`${front.self} does not create instances from templates in \`start\`: use \`limactl create\``);
  requireInstance(name);
  const state = front.state(name);
  if (state.status === 'Running') {
    log(
      'info',
      `The instance ${q(name)} is already running. Run \`limactl shell ${name}\` to open the shell.`,
    );
    return undefined;
  }
  if (state.status !== 'Stopped') {
    log('warning', `expected status ${q('Stopped')}, got ${q(state.status)}`);
    fatal(
      `instance ${q(name)} seems running (hint: remove ${q(inInst(name, 'ha.pid'))} if the instance is not actually running)`,
    );
  }
  const vmType = front.startDriver(name);
  rmSync(inInst(name, 'ha.stderr.log'), { force: true });
  log('info', `Starting the instance ${q(name)} with internal VM driver ${q(vmType)}`);
  return name;
}

/** `stop [-f] NAME`: `front.shutDown` powers the VM off, `front.kill` (with -f) pulls the plug. */
function cmdStop(front, rest) {
  const { flags, positionals } = parseFlags(rest, { bool: ['--force', '-f'] });
  const name = positionals[0];
  if (!name) fatal(`${front.self} needs an instance name`);
  requireInstance(name);
  const state = front.store.read(name);
  if (forced(flags)) {
    front.kill(name, state);
    log('info', `The ${front.stopDriver(name)} driver process seems already stopped`);
    log('info', 'The host agent process seems already stopped');
    front.store.write(name, front.store.stopped());
    return 0;
  }
  const status = front.state(name).status;
  if (status !== 'Running') {
    fatal(`expected status ${q('Running')}, got ${q(status)} (maybe use \`limactl stop -f\`?)`);
  }
  log('info', 'Waiting for the host agent and the driver processes to shut down');
  front.shutDown(name, state);
  front.store.write(name, front.store.stopped());
  log('info', `The instance ${name} has shut down`);
  return 0;
}

/** `delete [-f] NAME…`: the instance's folder (its disks) goes, after `front.discard` took the VM down. */
function cmdDelete(front, rest) {
  const { flags, positionals } = parseFlags(rest, { bool: ['--force', '-f'] });
  for (const name of positionals) {
    validName(name);
    if (!existsSync(instDir(name))) {
      log('warning', `Ignoring non-existent instance ${q(name)}`);
      continue;
    }
    const state = front.state(name);
    if (front.protects && isProtected(name)) {
      fatal(
        `failed to delete instance ${q(name)}: instance is protected to prohibit accidental removal (Hint: use \`limactl unprotect\`)`,
      );
    }
    if (!forced(flags) && state.status !== 'Stopped') {
      fatal(`failed to delete instance ${q(name)}: expected status ${q('Stopped')}, got ${q(state.status)}`);
    }
    front.discard(name, state);
    rmSync(instDir(name), { recursive: true, force: true });
    log('info', `Deleted ${q(name)} (${q(instDir(name))})`);
  }
  return 0;
}

// limactl protect|unprotect NAME…: the empty file `protected` in the instance's folder
// (cmd/limactl/protect.go, unprotect.go, pkg/limatype/lima_instance.go Protect/Unprotect).
function cmdProtect(rest, on) {
  const { positionals } = parseFlags(rest);
  if (positionals.length === 0) fatal('requires at least 1 arg(s), only received 0');
  let failed = false;
  for (const name of positionals) {
    validName(name);
    if (!exists(name)) {
      log(
        'error',
        `failed to inspect instance ${q(name)}: open ${inInst(name, 'lima.yaml')}: no such file or directory`,
      );
      failed = true;
      continue;
    }
    const file = inInst(name, PROTECTED);
    if (existsSync(file) === on) {
      log('warning', `Instance ${q(name)} is ${on ? 'already protected' : 'not protected'}. Skipping.`);
      continue;
    }
    if (on) writeFileSync(file, '', { mode: 0o400 });
    else rmSync(file, { force: true });
    log('info', `${on ? 'Protected' : 'Unprotected'} ${q(name)}`);
  }
  return failed ? 1 : 0;
}

/**
 * `shell [flags] NAME [--] CMD…` up to the connection: the flags, the instance (which must exist
 * and not be stopped), its state and the command.
 */
export function shellTarget(front, rest) {
  const { flags, positionals } = parseFlags(rest, {
    bool: ['--reconnect', '--preserve-env', '--start'],
    value: ['--workdir', '--shell', '--instance', '--sync'],
    interspersed: false,
  });
  let [name, ...command] = positionals;
  if (!name) fatal('requires instance name as first argument');
  if (command[0] === '--') command = command.slice(1);
  validName(name);
  if (!exists(name))
    fatal(`instance ${q(name)} does not exist, run \`limactl create ${name}\` to create a new instance`);
  const state = front.state(name);
  if (state.status === 'Stopped')
    fatal(`instance ${q(name)} is stopped, run \`limactl start ${name}\` to start the instance`);
  return { flags, name, command, state };
}

// ---------------------------------------------------------------- main
/**
 * Runs one limactl command line (process.argv) with `front`: what it is called in messages
 * (`self`), its state file (`store`), an instance's status (`state`) and filled-in template
 * (`config`), its `list --json` object (`instanceJson`), whether it keeps `protected`
 * (`protects`, with the protect and unprotect commands), the driver named by `start`
 * (`startDriver`) and `stop -f` (`stopDriver`), how it powers a VM off (`shutDown`), pulls the plug
 * (`kill`) and takes it down for `delete` (`discard`), and its own commands (`commands`: at least
 * start and shell), which return the exit code or undefined when they set it later.
 */
export async function main(front) {
  const args = process.argv.slice(2);
  if (process.env.ATLAS_LIMA_DOUBLE_ARGV_LOG) {
    appendFileSync(process.env.ATLAS_LIMA_DOUBLE_ARGV_LOG, `${JSON.stringify(args)}\n`);
  }
  const globals = [];
  let i = 0;
  while (i < args.length && args[i].startsWith('-')) {
    const a = args[i];
    globals.push(a);
    if (GLOBAL_VALUE.has(a)) globals.push(args[++i]);
    i++;
  }
  const sub = args[i];
  const rest = [...globals, ...args.slice(i + 1)];
  if (globals.includes('--version') || sub === 'version') {
    process.stdout.write(`limactl version ${VERSION}\n`);
    process.exitCode = 0;
    return;
  }
  const commands = new Map([
    ['list', (r) => cmdList(front, r)],
    ['ls', (r) => cmdList(front, r)],
    ['create', (r) => cmdCreate(front, r)],
    ['stop', (r) => cmdStop(front, r)],
    ['delete', (r) => cmdDelete(front, r)],
    ['remove', (r) => cmdDelete(front, r)],
    ['rm', (r) => cmdDelete(front, r)],
    ...(front.protects
      ? [
          ['protect', (r) => cmdProtect(r, true)],
          ['unprotect', (r) => cmdProtect(r, false)],
        ]
      : []),
    ...Object.entries(front.commands),
  ]);
  const command = commands.get(sub);
  if (!command) fatal(`${front.self} does not implement ${q(sub ?? '')}`);
  const code = await command(rest);
  if (code !== undefined) process.exitCode = code;
}
