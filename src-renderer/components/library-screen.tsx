/**
 * The library: every golden image, clone set and clone image with version, tag, phase, size and
 * date; reveal in Finder, copy to the archive (checksum-verified), stage one image at a time on
 * the Desktop, delete after confirmation.
 */
import { useEffect } from 'react';
import type { LibraryItem } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { bytes, date, shown } from '../lib/format';
import { ConfirmDialog } from './confirm-dialog';
import { ErrorBox } from './error-box';
import { JobPanel } from './job-panel';
import { ScreenHeader } from './screen-header';
import { SetsElsewhere } from './sets-elsewhere';

const KIND_TEXT: Record<LibraryItem['kind'], string> = {
  'golden-image': 'golden image',
  'clone-set': 'clone set',
  'clone-image': 'clone image',
};

export function LibraryScreen() {
  const library = useStore((s) => s.library);
  const error = useStore((s) => s.libraryError);
  const ticket = useStore((s) => s.deleteTicket);
  const jobIds = useStore((s) => s.libraryJobIds);
  const refreshLibrary = useStore((s) => s.refreshLibrary);
  const a = useStore.getState();

  useEffect(() => {
    void refreshLibrary();
  }, [refreshLibrary]);

  if (!library)
    return <div className="screen">{error ? <ErrorBox error={error} /> : 'Reading the library…'}</div>;
  const items = [...library.items].sort(
    (x, y) => x.phase - y.phase || y.modifiedAt.localeCompare(x.modifiedAt),
  );

  return (
    <div className="screen">
      <ScreenHeader title="Library" subtitle={`Work directory ${library.library}`} />
      <div className="places">
        <div>
          <span className="label">Archive</span>
          <span className="mono">{library.archive.dir}</span>{' '}
          {library.archive.available ? (
            <span className="chip ok">connected</span>
          ) : (
            <span className="chip bad">{library.archive.reason ?? 'not available'}</span>
          )}
          <button type="button" className="button link" onClick={() => void a.chooseArchiveDir()}>
            Change…
          </button>
        </div>
        <div>
          <span className="label">Staging</span>
          <span className="mono">{library.staging.dir}</span>{' '}
          <span className="muted">
            {library.staging.staged ? `holds ${library.staging.staged}` : 'empty'} (one image at a time)
          </span>
        </div>
      </div>
      {error && <ErrorBox error={error} />}
      {items.length === 0 ? (
        <p className="empty">The library is empty: build a golden image with Insert, or clone a card.</p>
      ) : (
        <table className="table library">
          <thead>
            <tr>
              <th>Phase</th>
              <th>Name</th>
              <th>Version</th>
              <th>Tag</th>
              <th>Size</th>
              <th>Date</th>
              <th>Where</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.path} data-kind={i.kind}>
                <td>
                  <span className={`phase-badge p${i.phase}`}>P{i.phase}</span>
                </td>
                <td>
                  <div className="mono">{shown(i.name)}</div>
                  <div className="muted small">
                    {KIND_TEXT[i.kind]}
                    {i.missing && i.missing.length > 0 ? ` — missing ${i.missing.map(shown).join(', ')}` : ''}
                  </div>
                  {i.damaged && (
                    <div className="small bad-text" role="note">
                      damaged: {shown(i.damaged)}
                    </div>
                  )}
                </td>
                <td>{i.version ? shown(i.version) : '—'}</td>
                <td>{i.tag ? shown(i.tag) : '—'}</td>
                <td className="nowrap">{bytes(i.bytes)}</td>
                <td className="nowrap">{date(i.modifiedAt)}</td>
                <td>
                  {i.archived && <span className="chip ok">archived</span>}
                  {i.staged && <span className="chip info">staged</span>}
                </td>
                <td className="row-actions">
                  <button type="button" className="button link" onClick={() => void a.reveal(i.path)}>
                    Reveal
                  </button>
                  <button
                    type="button"
                    className="button link"
                    disabled={!library.archive.available}
                    onClick={() => void a.startLibraryJob('archive', i.path)}
                  >
                    Archive
                  </button>
                  {i.kind !== 'clone-set' && (
                    <button
                      type="button"
                      className="button link"
                      onClick={() => void a.startLibraryJob('stage', i.path)}
                    >
                      Stage
                    </button>
                  )}
                  <button
                    type="button"
                    className="button link danger"
                    onClick={() => void a.askDelete(i.path)}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SetsElsewhere
        sets={library.elsewhere ?? []}
        onAdopt={(path) => void a.startLibraryJob('adopt', path)}
      />
      {library.unfinished.length > 0 && (
        <p className="notice">
          Unfinished output of interrupted jobs (not artifacts): {library.unfinished.join(', ')}
        </p>
      )}
      {ticket && (
        <ConfirmDialog
          title="Delete from the library?"
          message={ticket.question}
          confirmLabel="Delete"
          onCancel={() => a.cancelDelete()}
          onConfirm={() => void a.confirmDelete()}
        />
      )}
      {jobIds.map((id) => (
        <JobPanel key={id} jobId={id}>
          <LibraryJobDone jobId={id} />
        </JobPanel>
      ))}
    </div>
  );
}

function LibraryJobDone({ jobId }: { jobId: string }) {
  const job = useStore((s) => s.jobs[jobId]);
  const o = job?.outcome;
  if (o?.kind === 'archive') {
    return (
      <p className="result">
        {o.result.alreadyArchived ? 'Already in the archive, checksums match: ' : 'Copied and verified: '}
        <span className="mono">{o.result.dest}</span> ({o.result.files.length} file
        {o.result.files.length > 1 ? 's' : ''}, sha256 checked)
      </p>
    );
  }
  if (o?.kind === 'adopt') {
    return (
      <p className="result">
        Adopted <span className="mono">{o.result.from}</span> as <span className="mono">{o.result.dir}</span>{' '}
        ({o.result.files.length} files, sha256 checked; the original is unchanged).
      </p>
    );
  }
  if (o?.kind === 'stage') {
    return (
      <p className="result">
        Staged <span className="mono">{o.result.staged}</span>
        {o.result.replaced ? `, replacing ${o.result.replaced}` : ''}.
      </p>
    );
  }
  return null;
}
