import {
  DATASET_SHAPES,
  FILE_LAYER_CLASS,
  summarizeModelFile,
  type ModelFile,
  type ModelFileRow,
} from '@chorus/protocol';

/**
 * The layers of a run's model file (`chorus run --model-file`) as Keras' `model.summary()` shows
 * them: output shapes at the dataset's samples when it is a built-in one, else at the file's input.
 */
export function ModelFileSummary({ file, dataset }: { file: ModelFile; dataset: string }) {
  const shape = (
    DATASET_SHAPES as Partial<Record<string, { inputShape: readonly number[]; numClasses: number }>>
  )[dataset];
  let rows: ModelFileRow[] | null = null;
  let params: number | null = null;
  try {
    const summary = summarizeModelFile(file, shape?.inputShape);
    rows = summary.rows;
    params = summary.params;
  } catch {
    // No shape to size it against: list the layers alone.
  }
  return (
    <details data-testid="model-file-summary">
      <summary>
        Layers of {file.fileName} ({file.layers.length} layers
        {params === null ? '' : `, ${params.toLocaleString('en-US')} parameters`})
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Layer (type)</th>
            <th scope="col">Output shape</th>
            <th scope="col">Parameters</th>
          </tr>
        </thead>
        <tbody>
          {(
            rows ??
            file.layers.map((l, index) => ({
              index,
              name: l.name,
              className: FILE_LAYER_CLASS[l.kind],
              outputShape: null,
              params: null,
            }))
          ).map((r) => (
            <tr key={`${r.index}-${r.name}`}>
              <td>
                {r.name} ({r.className})
              </td>
              <td>{r.outputShape === null ? '—' : `(${r.outputShape.join(', ')})`}</td>
              <td>{r.params === null ? '—' : r.params.toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
