// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelFile } from '@chorus/protocol';
import { ModelFileSummary } from './model-file-summary';

afterEach(cleanup);

const FILE: ModelFile = {
  fileName: 'digits-mlp.json',
  name: 'digits_mlp',
  inputShape: [64],
  layers: [
    { kind: 'dense', name: 'hidden', units: 32, activation: 'relu', init: 'heNormal' },
    { kind: 'dense', name: 'classes', units: 10, activation: 'softmax', init: 'glorotUniform' },
  ],
};

describe('ModelFileSummary', () => {
  it("lists the file's layers with their shapes and parameters at the dataset's samples", () => {
    render(<ModelFileSummary file={FILE} dataset="digits" />);
    const summary = screen.getByTestId('model-file-summary');
    // 64·32+32 + 32·10+10
    expect(within(summary).getByText('Layers of digits-mlp.json (2 layers, 2,410 parameters)')).toBeTruthy();
    const rows = within(summary)
      .getAllByRole('row')
      .map((r) =>
        within(r)
          .getAllByRole(r.querySelector('th') ? 'columnheader' : 'cell')
          .map((c) => c.textContent),
      );
    expect(rows).toEqual([
      ['Layer (type)', 'Output shape', 'Parameters'],
      ['(input) (Flatten)', '(64)', '0'],
      ['hidden (Dense)', '(32)', '2,080'],
      ['classes (Dense)', '(10)', '330'],
    ]);
  });

  it('lists the layers alone when there is no shape to size them against', () => {
    render(<ModelFileSummary file={{ ...FILE, inputShape: null }} dataset="my-own-data" />);
    expect(screen.getByText('Layers of digits-mlp.json (2 layers)')).toBeTruthy();
    expect(screen.getAllByRole('cell').map((c) => c.textContent)).toEqual([
      'hidden (Dense)',
      '—',
      '—',
      'classes (Dense)',
      '—',
      '—',
    ]);
  });
});
