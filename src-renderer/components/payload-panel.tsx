/**
 * The payload Insert injects: the user's ods-player-os-atlas checkout (picked once, remembered),
 * the two files found in it, and the secrets status (where atlas_secrets.conf is, which settings
 * it has; never their values), with the import into the app's encrypted store.
 */
import { useStore } from '../store/store';
import { CheckItem, checkState } from './check-item';
import { ErrorBox } from './error-box';
import { SecretsPanel } from './secrets-panel';

export function PayloadPanel() {
  const dir = useStore((s) => s.settings?.payloadDir ?? null);
  const payload = useStore((s) => s.insert.payload);
  const choosePayload = useStore((s) => s.choosePayload);
  return (
    <div className="payload">
      <div className="row">
        <div className="grow">
          <span className="label">Payload folder</span>
          <span className="mono">{dir ?? 'not chosen yet'}</span>
          {payload?.layout && (
            <span className="muted">
              {' '}
              ({payload.layout === 'checkout' ? 'ods-player-os-atlas checkout, scripts/' : 'payload folder'})
            </span>
          )}
        </div>
        <button type="button" className="button secondary" onClick={() => void choosePayload()}>
          {dir ? 'Change…' : 'Choose folder…'}
        </button>
      </div>
      {payload && (
        <ul className="checks" aria-label="Payload files">
          {payload.files.map((f) => (
            <CheckItem key={f.name} state={checkState(f.found)}>
              <span className="mono">{f.name}</span>
              <span className="muted">{f.found ? f.path : 'not found'}</span>
            </CheckItem>
          ))}
          <CheckItem state={checkState(payload.secrets.found)}>
            <span className="mono">atlas_secrets.conf</span>
            <span className="muted">
              {payload.secrets.found
                ? `${payload.secrets.where}${payload.secrets.path ? `: ${payload.secrets.path}` : ''} — settings ${payload.secrets.keys.join(', ') || 'none'} (values never shown)`
                : 'not found'}
            </span>
          </CheckItem>
          {payload.secrets.found && !payload.secrets.hasRootPassword && (
            <CheckItem state="warn">
              <span>No ROOT_PASSWORD: the image keeps Armbian&apos;s root password.</span>
            </CheckItem>
          )}
        </ul>
      )}
      <SecretsPanel />
      {payload?.problems.map((p) => (
        <ErrorBox key={p.message} error={p} title="Payload not ready" />
      ))}
    </div>
  );
}
