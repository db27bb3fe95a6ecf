import { runLetter } from '../../lib/compare';
import { seriesColor } from '../../lib/palette';
import styles from './compare.module.css';

/** White text reaches 4.5:1 only on the palette's blue and black; every other entry gets black text. */
const LIGHT_TEXT = new Set(['#0072B2', '#000000']);

/** The run's letter on its colour, as in the charts' legends. */
export function RunLetter({ index }: { index: number }) {
  const color = seriesColor(index);
  return (
    <span
      className={`${styles.letter} ${LIGHT_TEXT.has(color) ? '' : styles.letterDark}`}
      style={{ background: color }}
      aria-hidden="true"
    >
      {runLetter(index)}
    </span>
  );
}
