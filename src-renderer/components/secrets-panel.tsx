/**
 * atlas_secrets.conf in the app: imported once, kept encrypted by main (the key is in the macOS
 * Keychain or the Linux keyring, named as main names it), decrypted only while an Insert runs. Only the names of its settings are ever shown.
 */
import { useStore } from '../store/store';
import { date } from '../lib/format';

export function SecretsPanel() {
  const secrets = useStore((s) => s.insert.secrets);
  const importSecrets = useStore((s) => s.importSecrets);
  const forgetSecrets = useStore((s) => s.forgetSecrets);
  if (!secrets) return null;
  return (
    <div className="row secrets" data-testid="secrets-panel">
      <div className="grow">
        <span className="label">Secrets in the app</span>
        {secrets.damaged ? (
          <span>the stored atlas_secrets.conf cannot be read: import it again, or forget it.</span>
        ) : secrets.stored ? (
          <span>
            atlas_secrets.conf imported {secrets.importedAt ? date(secrets.importedAt) : ''}, encrypted with{' '}
            {secrets.protectedBy}: settings {secrets.keys.join(', ') || 'none'} (values never shown).
            {secrets.importedFrom && (
              <span className="muted">
                {' '}
                The plain copy at <span className="mono">{secrets.importedFrom}</span> is no longer needed by
                the app: delete it if it has no other use.
              </span>
            )}
          </span>
        ) : secrets.encryptionAvailable ? (
          <span className="muted">
            none imported: Insert uses atlas_secrets.conf beside the payload or in the library, in clear.
            Import it once and the app keeps it encrypted with {secrets.protectedBy}.
          </span>
        ) : (
          <span className="muted">
            this system offers no encryption ({secrets.protectedBy} is not available): Insert uses
            atlas_secrets.conf beside the payload or in the library.
          </span>
        )}
      </div>
      <button
        type="button"
        className="button secondary"
        disabled={!secrets.encryptionAvailable}
        onClick={() => void importSecrets()}
      >
        {secrets.stored ? 'Replace secrets…' : 'Import secrets…'}
      </button>
      {secrets.stored && (
        <button type="button" className="button secondary" onClick={() => void forgetSecrets()}>
          Forget secrets
        </button>
      )}
    </div>
  );
}
