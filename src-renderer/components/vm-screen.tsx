/**
 * The build VM: status, one-click setup with its named steps and progress, start/stop, the
 * doctor's findings with a button for each fix it knows, and a terminal. On a Linux build host there is no VM: the screen says so, the doctor checks the
 * host's tools and the terminal is a shell on the host.
 */
import { useEffect, useState } from 'react';
import type { VmState } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { CheckItem, checkState } from './check-item';
import { ErrorBox } from './error-box';
import { JobPanel } from './job-panel';
import { JobResult } from './job-result';
import { ScreenHeader } from './screen-header';
import { TerminalView } from './terminal-view';
import { appStepsText } from '../next-steps';
import { ConfirmDialog } from './confirm-dialog';
import type { VmRecreatePreview } from '../../src-main/common/contract';

/** The recreate confirmation: what is lost, what is kept, and whether secrets inside it are imported first. */
function RecreateDialog({ preview }: { preview: VmRecreatePreview }) {
  const a = useStore.getState();
  const [importSecrets, setImportSecrets] = useState(true);
  const offer = preview.secrets.length > 0 || preview.secretsNotChecked !== undefined;
  return (
    <ConfirmDialog
      title={`Recreate the ${preview.instance} VM?`}
      message={`It is deleted (${preview.state}) and created again from Atlas Imager's template. This is lost:`}
      confirmLabel="Delete and recreate"
      onCancel={() => a.cancelRecreate()}
      onConfirm={() => void a.confirmRecreate(offer ? importSecrets : true)}
    >
      <ul className="recreate-lost" aria-label="What is lost">
        {preview.lost.map((l) => (
          <li key={l}>{l}</li>
        ))}
      </ul>
      {preview.secretsNotChecked && (
        <p className="muted">
          atlas_secrets.conf inside it: not looked for yet ({preview.secretsNotChecked}).
        </p>
      )}
      {preview.sharedFolders.length > 0 && (
        <p className="muted">Kept, on this computer: {preview.sharedFolders.join(', ')}.</p>
      )}
      {preview.protected && (
        <p className="muted">
          Lima protects this VM from removal: unprotect it first (limactl unprotect {preview.instance}).
        </p>
      )}
      {offer && (
        <label className="check">
          <input
            type="checkbox"
            checked={importSecrets}
            onChange={(e) => setImportSecrets(e.target.checked)}
          />{' '}
          {preview.secrets.length
            ? `Import atlas_secrets.conf from the old VM (${preview.secrets[0]!.path}) into the app's encrypted secret store first; unticked, it is deleted with the VM`
            : "If the VM holds atlas_secrets.conf, import it into the app's encrypted secret store first; unticked, it is deleted with the VM"}
        </label>
      )}
    </ConfirmDialog>
  );
}

const STATE_TEXT: Record<VmState, string> = {
  'not-needed': 'no VM needed',
  'no-limactl': 'Lima not installed',
  'not-created': 'not set up',
  installing: 'setting up',
  stopped: 'stopped',
  running: 'running',
  broken: 'broken',
  unknown: 'not available',
};

/** The doctor's fixes, as buttons. */
const ACTION_TEXT = {
  'vm-setup': 'Fix: set up the VM',
  'vm-start': 'Fix: start the VM',
  'vm-upgrade': 'Fix: upgrade the VM in place',
} as const;

export function VmScreen() {
  const vm = useStore((s) => s.vm);
  const vmJob = useStore((s) => (s.vm.jobId ? s.jobs[s.vm.jobId] : undefined));
  const refreshVm = useStore((s) => s.refreshVm);
  const a = useStore.getState();
  const [terminal, setTerminal] = useState(false);

  useEffect(() => {
    void refreshVm();
  }, [refreshVm, vmJob?.state]);

  // A VM job that ended changes what the doctor would find: check again if it was asked for (even
  // while its first run is still under way, which may have seen the VM in the middle of the job).
  useEffect(() => {
    if (vmJob && vmJob.state !== 'running' && useStore.getState().vm.doctorAsked) void a.runDoctor();
  }, [vmJob?.state]);

  const status = vm.status;
  const busy = vmJob?.state === 'running';
  return (
    <div className="screen">
      <ScreenHeader
        title="Build VM"
        subtitle="Where the Linux disk tools run: the atlas-build Lima VM on a Mac, the host itself on a Linux build box."
      />
      <section className="panel">
        <h2>Status</h2>
        {status ? (
          <div className="vm-status">
            <span
              className={`chip ${status.state === 'running' || status.state === 'not-needed' ? 'ok' : 'bad'}`}
            >
              {STATE_TEXT[status.state]}
            </span>
            <span className="vm-name mono">{status.name}</span>
            <p>{status.detail}</p>
          </div>
        ) : (
          <p className="muted">Reading the VM status…</p>
        )}
        {status?.needed && (
          <div className="row">
            {status.state === 'not-created' && (
              <button
                type="button"
                className="button primary"
                disabled={busy}
                onClick={() => void a.startVmJob('vm-setup')}
              >
                Set up the VM
              </button>
            )}
            {(status.state === 'stopped' || status.state === 'broken') && (
              <button
                type="button"
                className="button primary"
                disabled={busy}
                onClick={() => void a.startVmJob('vm-start')}
              >
                Start
              </button>
            )}
            {status.state === 'running' && (
              <button
                type="button"
                className="button secondary"
                disabled={busy}
                onClick={() => void a.startVmJob('vm-stop')}
              >
                Stop
              </button>
            )}
            {status.state !== 'not-created' && status.state !== 'no-limactl' && (
              <button
                type="button"
                className="button secondary"
                disabled={busy || (vm.recreate !== null && !vm.recreate.error)}
                onClick={() => void a.askRecreate()}
              >
                Recreate from the template…
              </button>
            )}
          </div>
        )}
        {vm.recreate && !vm.recreate.preview && !vm.recreate.error && (
          <p className="muted">Reading what the VM holds…</p>
        )}
        {vm.recreate?.error && (
          <ErrorBox error={vm.recreate.error} title="Recreate: the VM could not be read" />
        )}
        {vm.recreate?.preview && <RecreateDialog preview={vm.recreate.preview} />}
        <JobPanel jobId={vm.jobId}>{vmJob?.outcome && <JobResult outcome={vmJob.outcome} />}</JobPanel>
        {vm.error && <ErrorBox error={vm.error} />}
      </section>
      <section className="panel">
        <h2>
          Doctor
          <button type="button" className="button secondary small push" onClick={() => void a.runDoctor()}>
            {vm.doctor ? 'Check again' : 'Run the doctor'}
          </button>
        </h2>
        {vm.doctor && (
          <ul className="checks" aria-label="Doctor findings">
            {vm.doctor.findings.map((f) => (
              <CheckItem key={f.id} state={checkState(f.ok, f.severity)}>
                <span>{f.message}</span>
                {(f.hint || Boolean(f.next?.length) || f.action) && (
                  <span className="finding-fix">
                    {(f.hint || Boolean(f.next?.length)) && (
                      <span className="muted">
                        {[f.hint, appStepsText(f.next)].filter(Boolean).join(' ')}
                      </span>
                    )}
                    {f.action && (
                      <button
                        type="button"
                        className="button primary small"
                        disabled={busy}
                        onClick={() => void a.startVmJob(f.action!)}
                      >
                        {ACTION_TEXT[f.action]}
                      </button>
                    )}
                  </span>
                )}
              </CheckItem>
            ))}
          </ul>
        )}
      </section>
      <section className="panel">
        <h2>
          Terminal
          {!terminal && (
            <button
              type="button"
              className="button secondary small push"
              disabled={!status?.terminal}
              onClick={() => setTerminal(true)}
            >
              Open terminal
            </button>
          )}
        </h2>
        {terminal ? (
          <TerminalView onClose={() => setTerminal(false)} />
        ) : (
          <p className="muted">
            {status?.needed
              ? 'A shell inside the atlas-build VM (limactl shell).'
              : 'A shell on this build host.'}
          </p>
        )}
      </section>
    </div>
  );
}
