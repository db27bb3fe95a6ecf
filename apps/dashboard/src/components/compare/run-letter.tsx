import { runLetter } from '../../lib/compare';
import { seriesColor } from '../../lib/palette';
import styles from './compare.module.css';

/** Light palette entries (orange, sky blue, yellow) need dark text on them. */
const DARK_TEXT = new Set(['#E69F00', '#56B4E9', '#F0E442']);

/** The run's letter on its colour, as in the charts' legends. */
export function RunLetter({ index }: { index: number }) {
  const color = seriesColor(index);
  return (
    <span
      className={`${styles.letter} ${DARK_TEXT.has(color) ? styles.letterDark : ''}`}
      style={{ background: color }}
      aria-hidden="true"
    >
      {runLetter(index)}
    </span>
  );
}
