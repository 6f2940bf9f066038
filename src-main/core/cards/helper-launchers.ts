/**
 * How the raw-disk helper is started with the rights to open card devices (HelperLauncher):
 *   - as root: directly, with this Node (`process.execPath`), over stdin/stdout;
 *   - Linux, not root: `sudo -n` when it needs no password, else `pkexec` (polkit's own dialog);
 *   - macOS, not root: `osascript … do shell script … with administrator privileges`, the system's
 *     own authorization dialog. `do shell script` does not connect stdio, so the helper talks over
 *     two named pipes in a private (0700) directory, which it opens itself.
 * Which one a platform uses is the card platform's `launcher` (platform/linux.ts, darwin.ts); the
 * helper itself bundles this file, so it imports nothing that looks for the package's folders.
 */

export interface HelperLauncher {
  name: string;
  transport: 'stdio' | 'fifo';
  /**
   * The user is asked (a password dialog): one helper, started on first use, serves every request
   * of this process (helper-session.ts), so the user is asked once, not once per card.
   */
  shared?: boolean;
  /** The command that runs `argv` (this Node, the helper script and its arguments) with root rights. */
  wrap(argv: string[]): { command: string; args: string[]; env: Record<string, string> };
}

/** Variables that name the requesting user; the helper opens files with that user's rights. */
const REQUESTER_VARS = ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID'];

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !REQUESTER_VARS.includes(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Under Electron, `process.execPath` is the app: it runs the helper as plain Node with this. */
const asNode = (): string[] => (process.versions.electron ? ['ELECTRON_RUN_AS_NODE=1'] : []);

/** Already root: run the helper directly (the caller's own sudo does not make anyone a requester). */
export const directLauncher: HelperLauncher = {
  name: 'direct',
  transport: 'stdio',
  wrap: ([cmd, ...args]) => ({
    command: cmd!,
    args,
    env: cleanEnv(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}),
  }),
};

/** Linux: sudo without a password prompt (sudoers NOPASSWD or a cached ticket); sudo sets SUDO_UID. */
export const sudoLauncher: HelperLauncher = {
  name: 'sudo',
  transport: 'stdio',
  wrap: (argv) => ({
    command: 'sudo',
    args: ['-n', '--', '/usr/bin/env', ...asNode(), ...argv],
    env: cleanEnv(),
  }),
};

/** Linux desktop: polkit's authentication dialog; pkexec sets PKEXEC_UID. */
export const pkexecLauncher: HelperLauncher = {
  name: 'pkexec',
  transport: 'stdio',
  shared: true,
  wrap: (argv) => ({ command: 'pkexec', args: ['/usr/bin/env', ...asNode(), ...argv], env: cleanEnv() }),
};

/**
 * macOS: the system's administrator authorization dialog (username and password, or Touch ID),
 * through AppleScript's `do shell script … with administrator privileges`. Every argument is
 * shell-quoted by AppleScript itself (`quoted form of`). Shared: the dialog is shown once, and its
 * `prompt` (the text in the dialog) names Atlas Imager and what it will do.
 */
export function osascriptLauncher(
  prompt: string,
  uid: number,
  gid: number,
  osascript = '/usr/bin/osascript',
): HelperLauncher {
  const script = [
    'on run argv',
    'set cmd to "exec"',
    'repeat with i from 2 to count of argv',
    'set cmd to cmd & " " & quoted form of (item i of argv)',
    'end repeat',
    'do shell script cmd with prompt (item 1 of argv) with administrator privileges',
    'end run',
  ];
  return {
    name: 'osascript',
    transport: 'fifo',
    shared: true,
    wrap: (argv) => ({
      command: osascript,
      args: [
        ...script.flatMap((line) => ['-e', line]),
        prompt,
        '/usr/bin/env',
        `SUDO_UID=${uid}`,
        `SUDO_GID=${gid}`,
        ...asNode(),
        ...argv,
      ],
      env: cleanEnv(),
    }),
  };
}
