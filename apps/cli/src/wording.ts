/** `1 epoch`, `2 epochs`, `1 local worker process`, `4 local worker processes`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
