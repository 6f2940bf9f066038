/**
 * Ctrl-C and SIGTERM while a command runs: the first one cancels the job (its tools are stopped
 * and its partial output removed); a second one, of either kind, ends ods-sd at once with the
 * shell's status for that signal (130 for SIGINT, 143 for SIGTERM), whatever the job is doing.
 */
const STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
type Signal = keyof typeof STATUS;

export interface SignalActions {
  cancel(): void;
  exit(status: number): void;
  say(text: string): void;
}

/** Listens for SIGINT and SIGTERM until the returned function is called. */
export function cancelOnSignals(actions: SignalActions): () => void {
  let seen = 0;
  const handlers = (Object.keys(STATUS) as Signal[]).map((sig) => {
    const handler = () => {
      seen += 1;
      if (seen === 1) {
        actions.say('\ncancelling… (press Ctrl-C again to stop at once)\n');
        actions.cancel();
        return;
      }
      actions.say(`\nstopped at once (${sig})\n`);
      actions.exit(STATUS[sig]);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}
