/** `1 epoch`, `2 epochs`, `1 local worker process`, `4 local worker processes`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** How long before `now` a moment was, shortly: `4s ago`, `12m ago`, `3h ago`, `2d ago`. */
export function ago(moment: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - moment.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

/** An accuracy as a percentage with one decimal: `93.1%`. */
export function percent(accuracy: number): string {
  return `${(100 * accuracy).toFixed(1)}%`;
}

/**
 * `text` in lines of at most `width` columns, broken between words (a longer word keeps its own
 * line), the first line starting with `first` and the others with `rest`: a long note on a terminal
 * or in a log file reads as a paragraph, not as one line of several screens.
 */
export function wrapWords(text: string, width: number, first = '', rest = first): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines;
}
