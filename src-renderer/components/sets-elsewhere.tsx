/**
 * Clone sets found outside the library (tools/ods-sd's clones folder, the lab's ~/atlas-build,
 * places the user added), each with where it lives and whether it was checked. Adopt copies one
 * into the library under the seed's naming; the original is left as it was.
 */
import type { ElsewhereSet } from '../../src-main/common/contract';
import { bytes, date } from '../lib/format';

export const PLACE_TEXT: Record<ElsewhereSet['place']['kind'], string> = {
  'ods-sd': 'tools/ods-sd clones',
  lab: 'lab work folder',
  added: 'added place',
};

function state(s: ElsewhereSet): string {
  if (s.missing.length) return `incomplete: ${s.missing.join(', ')} missing`;
  return s.checked ? 'checked' : 'checked before it is restored or adopted';
}

export function SetsElsewhere(props: { sets: ElsewhereSet[]; onAdopt: (path: string) => void }) {
  if (props.sets.length === 0) return null;
  return (
    <section className="panel">
      <h2>Clone sets elsewhere</h2>
      <p className="muted">
        Found outside the library. Restore them as they are (they are only read), or adopt one: it is copied
        into the library as golden-clone-NAME with checksums, and the original is left as it was.
      </p>
      <table className="table library" aria-label="Clone sets elsewhere">
        <thead>
          <tr>
            <th>Name</th>
            <th>Where</th>
            <th>Size</th>
            <th>Date</th>
            <th>State</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {props.sets.map((s) => (
            <tr key={s.path}>
              <td className="mono">{s.name}</td>
              <td>
                <div className="mono small">{s.place.path}</div>
                <div className="muted small">{PLACE_TEXT[s.place.kind]}</div>
              </td>
              <td className="nowrap">{bytes(s.bytes)}</td>
              <td className="nowrap">{date(s.modifiedAt)}</td>
              <td>{state(s)}</td>
              <td className="row-actions">
                <button
                  type="button"
                  className="button link"
                  disabled={s.missing.length > 0}
                  onClick={() => props.onAdopt(s.path)}
                >
                  Adopt into the library
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
