/**
 * A terminal into the build VM (`limactl shell atlas-build`) or, on a Linux build host, a shell
 * on that host: xterm.js here, node-pty in main, bytes over the `terminal:*` channels.
 */
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { call, errorInfo, on } from '../api/client';
import type { ErrorInfo } from '../../src-main/common/contract';
import { ErrorBox } from './error-box';

const COLS = 110;
const ROWS = 26;

export function TerminalView({ onClose }: { onClose(): void }) {
  const host = useRef<HTMLDivElement>(null);
  const [title, setTitle] = useState('Connecting…');
  const [ended, setEnded] = useState<number | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);

  useEffect(() => {
    if (!host.current) return;
    const term = new Terminal({
      cols: COLS,
      rows: ROWS,
      cursorBlink: true,
      fontFamily: 'SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      theme: { background: '#0b1220', foreground: '#d6e2f5', cursor: '#7fb0ff' },
    });
    term.open(host.current);
    let id: string | null = null;
    // Output can arrive before the open request has answered: keep it until the id is known.
    const early: Array<{ id: string; data: string }> = [];
    const offData = on('terminal:data', (p) => {
      if (id === null) early.push(p);
      else if (p.id === id) term.write(p.data);
    });
    const offExit = on('terminal:exit', (p) => {
      if (p.id !== id) return;
      setEnded(p.exitCode);
      term.write(`\r\n\x1b[2m[session ended, exit code ${p.exitCode}]\x1b[0m\r\n`);
    });
    const input = term.onData((data) => {
      if (id) void call('terminal:input', id, data).catch(() => undefined);
    });
    let disposed = false;
    call('terminal:open', COLS, ROWS).then(
      (r) => {
        if (disposed) return void call('terminal:close', r.id);
        id = r.id;
        setTitle(r.title);
        for (const p of early.splice(0)) if (p.id === id) term.write(p.data);
        term.focus();
      },
      (e: unknown) => setError(errorInfo(e)),
    );
    return () => {
      disposed = true;
      offData();
      offExit();
      input.dispose();
      if (id) void call('terminal:close', id).catch(() => undefined);
      term.dispose();
    };
  }, []);

  return (
    <div className="terminal">
      <div className="terminal-bar">
        <span className="mono">{title}</span>
        {ended !== null && <span className="muted"> — ended ({ended})</span>}
        <button type="button" className="button secondary small push" onClick={onClose}>
          Close
        </button>
      </div>
      {error && <ErrorBox error={error} title="The terminal could not start" />}
      <div className="terminal-host" ref={host} data-testid="terminal" />
    </div>
  );
}
