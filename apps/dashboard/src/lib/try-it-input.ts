import { DATASET_SHAPES, isDatasetName } from '@chorus/protocol';

/** How the "try it" panel takes an input for a run's dataset: a drawing (28×28×1) or a pasted row. */
export type TryItInput =
  | { kind: 'image'; side: number; fit: 'digit' | 'frame'; features: number }
  | { kind: 'row'; features: number | null };

export function inputKindOf(name: string): TryItInput {
  if (!isDatasetName(name)) return { kind: 'row', features: null };
  const shape = DATASET_SHAPES[name].inputShape;
  const features = shape.reduce((a, b) => a * b, 1);
  const [h, w, c] = shape;
  if (h === 28 && w === 28 && c === 1) {
    // Handwritten digits are boxed and centred (drawing.ts); clothes and hands fill the frame.
    return { kind: 'image', side: 28, fit: name === 'mnist' ? 'digit' : 'frame', features };
  }
  return { kind: 'row', features };
}
