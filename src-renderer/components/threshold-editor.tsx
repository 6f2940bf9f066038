/**
 * Beside a failed count of the checklist: change the least number it expects. The new number is kept
 * in the library's own checklist (the shipped one is never changed), and the card is verified again.
 */
import { useState } from 'react';

export function ThresholdEditor(props: {
  id: string;
  label: string;
  found: number;
  onSave: (id: string, min: number) => Promise<void>;
}) {
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState(String(props.found));
  const [saving, setSaving] = useState(false);
  if (!open) {
    return (
      <button type="button" className="button secondary small" onClick={() => setOpen(true)}>
        Change the threshold
      </button>
    );
  }
  const min = Number(value);
  const valid = value.trim() !== '' && Number.isInteger(min) && min >= 0;
  return (
    <span className="row threshold">
      <label>
        {props.label}: at least{' '}
        <input
          type="number"
          min={0}
          step={1}
          value={value}
          aria-label={`${props.label}: the least number expected`}
          onChange={(e) => setValue(e.target.value)}
        />
      </label>
      <button
        type="button"
        className="button small"
        disabled={!valid || saving}
        onClick={() => {
          setSaving(true);
          void props.onSave(props.id, min).finally(() => setSaving(false));
        }}
      >
        Save and verify again
      </button>
    </span>
  );
}
