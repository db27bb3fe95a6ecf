import type { EnsemblePrediction } from '@chorus/models';
import type { StrategyName } from '@chorus/protocol';
import { plainTable, renderTable } from '../table';

/** Widths of the per-row table's columns but the last (votes, wrapped into the rest of 100). */
const WIDTHS = [7, 16, 11, 12];
const HEAD = ['row', 'class', 'probability', 'disagreement', 'member votes'];
/** With images, the first column is the file's name. */
const FILE_WIDTH = 24;

/**
 * One batch of `chorus predict` rows: a table (its header only before the first batch) or, with
 * --json, one JSON object a line: { row, class, className, probability, votes, disagreement }, and
 * `file` when the rows are images (`names`: their file names, which then head the table's rows).
 */
export function formatRows(
  prediction: EnsemblePrediction,
  options: {
    strategy: StrategyName;
    first: number;
    numClasses: number;
    classNames: string[];
    json: boolean;
    color: boolean;
    names?: string[];
  },
): string {
  const { strategy, first, numClasses, classNames } = options;
  const vote = prediction.strategies[strategy];
  if (!vote) throw new Error(`strategy ${strategy} was not computed`);
  const name = (c: number) => classNames[c] ?? String(c);
  const memberClasses = prediction.memberProbs.map((p) => (row: number) => {
    let best = 0;
    for (let c = 1; c < numClasses; c++)
      if ((p[row * numClasses + c] as number) > (p[row * numClasses + best] as number)) best = c;
    return best;
  });
  const lines: string[] = [];
  const { names } = options;
  const table = names
    ? plainTable(['file', ...HEAD.slice(1)], [FILE_WIDTH, ...WIDTHS.slice(1)], options.color)
    : plainTable(HEAD, WIDTHS, options.color);
  for (let r = 0; r < vote.classes.length; r++) {
    const cls = vote.classes[r] as number;
    const probability = vote.probs[r * numClasses + cls] as number;
    const votes = memberClasses.map((of) => of(r));
    const disagreement = prediction.disagreement[r] as number;
    if (options.json) {
      lines.push(
        JSON.stringify({
          row: first + r,
          ...(names ? { file: names[r] } : {}),
          class: cls,
          className: name(cls),
          probability,
          votes,
          disagreement,
        }),
      );
    } else {
      const shown = votes.map((v, i) => `#${prediction.members[i]}:${name(v)}`).join(' ');
      const label = names ? (names[r] as string) : String(first + r);
      table.push([label, name(cls), probability.toFixed(4), disagreement.toFixed(3), shown]);
    }
  }
  if (options.json) return lines.join('\n');
  const text = renderTable(table).split('\n');
  return (first === 0 ? text : text.slice(1)).join('\n');
}
