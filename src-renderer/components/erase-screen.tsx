/** Erase: a card back to one FAT32 partition for normal use, with the same guards as Flash. */
import { ErasePanel } from './erase-panel';
import { ScreenHeader } from './screen-header';

export function EraseScreen() {
  return (
    <div className="screen">
      <ScreenHeader
        phase="Deploy"
        title="Erase: a card back to normal use"
        subtitle="Never a system disk or the disk holding the library; the card is checked again right before it is written, unmounted first, verified and ejected after."
      />
      <ErasePanel />
    </div>
  );
}
