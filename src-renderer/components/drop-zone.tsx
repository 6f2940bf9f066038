/**
 * Drop an image here (or pick one). The dropped file's path comes from the bridge (Electron:
 * webUtils.getPathForFile); only images are taken: .img, and .img.xz, .img.gz, .img.zst, which
 * every image the app reads may be.
 */
import { useState, type DragEvent, type ReactNode } from 'react';
import { pathForFile } from '../api/client';

export const IMAGE_FILE = /\.img(\.(xz|gz|zst))?$/i;

export function DropZone({
  onPath,
  onPick,
  current,
  what = 'the base Armbian image',
  prompt,
}: {
  onPath(path: string): void;
  onPick(): void;
  current: string | null;
  /** What is asked for, in the refusal of another file. */
  what?: string;
  /** What the empty zone says. */
  prompt?: ReactNode;
}) {
  const [over, setOver] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (!file) return;
    if (!IMAGE_FILE.test(file.name)) {
      setProblem(`${file.name} is not an .img, .img.xz, .img.gz or .img.zst file: drop ${what}`);
      return;
    }
    const path = pathForFile(file);
    if (!path) {
      setProblem(`the location of ${file.name} is not known: use "Choose…" instead`);
      return;
    }
    setProblem(null);
    onPath(path);
  };

  return (
    <div
      className={`drop-zone${over ? ' over' : ''}`}
      data-testid="drop-zone"
      onDragEnter={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragOver={(e) => e.preventDefault()}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="drop-icon" aria-hidden>
        ⇩
      </div>
      <div>
        {current ? (
          <>
            <div className="mono">{current}</div>
            <div className="muted">Drop another image to replace it</div>
          </>
        ) : (
          (prompt ?? (
            <>
              <strong>Drop the base Armbian .img, .img.xz, .img.gz or .img.zst here</strong>
              <div className="muted">for example Armbian_26.2.1_Rpi4b_trixie_current_6.18.9_minimal.img</div>
            </>
          ))
        )}
      </div>
      <button type="button" className="button secondary" onClick={onPick}>
        Choose…
      </button>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
