/** What an image is: its partitions, file systems and used space, and which phase it looks like. */
import type { InspectionDto } from '../../src-main/common/contract';
import { bytes, shown } from '../lib/format';

export function InspectionSummary({ inspection }: { inspection: InspectionDto }) {
  return (
    <div className="inspection">
      <div className="facts">
        <div>
          <span className="label">Looks like</span>
          <span data-testid="inspection-state">{inspection.stateText}</span>
        </div>
        <div>
          <span className="label">Image</span>
          {bytes(inspection.bytes)}
          {inspection.compression !== 'none' ? ` (${inspection.compression})` : ''}, {inspection.table}{' '}
          partition table
        </div>
        <div>
          <span className="label">Atlas payload</span>
          {inspection.payloadPresent ? 'present' : 'absent'}
        </div>
      </div>
      <table className="table compact">
        <thead>
          <tr>
            <th>#</th>
            <th>File system</th>
            <th>Label</th>
            <th>Size</th>
            <th>Used</th>
          </tr>
        </thead>
        <tbody>
          {inspection.partitions.map((p) => (
            <tr key={p.number}>
              <td>{p.number}</td>
              <td>{p.fs ? shown(p.fs) : '?'}</td>
              <td className="mono">{p.label ? shown(p.label) : ''}</td>
              <td>{bytes(p.bytes)}</td>
              <td>{p.usedBytes === null ? '?' : bytes(p.usedBytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
