// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '@chorus/protocol';
import { classViewsOf } from '../../lib/run-classes';
import { ClassesPanel } from './classes-panel';

afterEach(cleanup);

const scores = (accuracy: number) => ({
  accuracy,
  nll: 1,
  brier: 0.5,
  ece: 0.1,
  gainOverBest: 0,
  gainOverMean: 0,
});
const NAMES = ['T-shirt/top', 'Trouser', 'Bag'];

function fashionResult(): RunResult {
  return {
    members: [0, 1].map((index) => ({ index, valAccuracy: 0.5, testAccuracy: 0.5, samplesPerSecond: 1 })),
    weights: [0.5, 0.5],
    ensemble: {
      hard: scores(0.5),
      soft: scores(0.8),
      'weighted-soft': scores(0.7),
      'weighted-hard': scores(0.5),
      geometric: scores(0.6),
    },
    diversity: {
      disagreement: 0,
      qStatistic: 0,
      correlation: 0,
      doubleFault: 0,
      kappa: 0,
      entropy: 0,
      kwVariance: 0,
      interraterKappa: 0,
    },
    classes: {
      names: NAMES,
      testCount: [4, 2, 0],
      softVoteAccuracy: [0.75, 1, 0],
      strategyAccuracy: { soft: [0.75, 1, 0], hard: [0.5, 0.5, 0] },
      memberAccuracy: [
        [0.25, 1, 0],
        [0.5, 0.5, 0],
      ],
      confusion: {
        soft: [
          [3, 1, 0],
          [0, 2, 0],
          [0, 0, 0],
        ],
        hard: [
          [2, 0, 2],
          [1, 1, 0],
          [0, 0, 0],
        ],
      },
    },
  };
}

const cell = (container: HTMLElement, selector: string) => container.querySelector(selector) as HTMLElement;

describe('ClassesPanel', () => {
  it("tables each class's accuracy under every strategy and member, by class name", () => {
    const { container } = render(<ClassesPanel views={classViewsOf(fashionResult())} active={false} />);
    const table = screen.getByTestId('class-accuracy');
    expect(table.dataset.detailed).toBe('true');
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((h) => h.textContent);
    expect(headers).toEqual(['Class', 'Test rows', 'hard', 'soft', 'Member 0', 'Member 1']);
    expect(
      within(table)
        .getAllByRole('rowheader')
        .map((h) => h.textContent),
    ).toEqual(NAMES);
    const tshirt = cell(container, 'tr[data-class="T-shirt/top"]');
    expect(cell(tshirt, 'td[data-strategy="soft"]').dataset.value).toBe('0.75');
    expect(cell(tshirt, 'td[data-strategy="soft"]').textContent).toBe('75.0%');
    expect(cell(tshirt, 'td[data-member="0"]').dataset.value).toBe('0.25');
    expect(cell(tshirt, 'td[data-metric="testCount"]').textContent).toBe('4');
  });

  it('shows the best strategy’s confusion matrix with class names on both axes, and another when picked', () => {
    const { container } = render(<ClassesPanel views={classViewsOf(fashionResult())} active={false} />);
    const matrix = () => screen.getByTestId('confusion-matrix');
    expect(matrix().dataset.strategy).toBe('soft'); // 0.8: the best test accuracy
    const select = screen.getByLabelText('Confusion matrix of') as HTMLSelectElement;
    expect(select.value).toBe('soft');
    expect([...select.options].map((o) => o.textContent)).toEqual(['hard', 'soft (best test accuracy)']);
    expect(
      within(matrix())
        .getAllByRole('rowheader')
        .map((h) => h.textContent),
    ).toEqual(NAMES);
    expect(
      within(matrix())
        .getAllByRole('columnheader')
        .slice(1)
        .map((h) => h.textContent),
    ).toEqual(NAMES);
    const at = (t: string, p: string) => cell(container, `td[data-true="${t}"][data-predicted="${p}"]`);
    expect(at('T-shirt/top', 'T-shirt/top').textContent).toBe('3');
    expect(at('T-shirt/top', 'Trouser').dataset.value).toBe('1');

    fireEvent.change(select, { target: { value: 'hard' } });
    expect(matrix().dataset.strategy).toBe('hard');
    expect(at('T-shirt/top', 'Bag').textContent).toBe('2');
    expect(screen.getByRole('region', { name: 'Confusion matrix of hard' })).toBeTruthy();
  });

  it('says when the figures come, and what an older result lacks', () => {
    render(<ClassesPanel views={null} active />);
    expect(screen.getByText(/appear when the run has completed/)).toBeTruthy();
    cleanup();
    const older = fashionResult();
    const { names, testCount, softVoteAccuracy } = older.classes!;
    render(
      <ClassesPanel
        views={classViewsOf({ ...older, classes: { names, testCount, softVoteAccuracy } })}
        active={false}
      />,
    );
    expect(screen.getByTestId('class-accuracy').dataset.detailed).toBe('false');
    expect(screen.getByText(/soft vote’s figures per class only/)).toBeTruthy();
    expect(screen.getByTestId('confusion-missing')).toBeTruthy();
    expect(screen.queryByTestId('confusion-matrix')).toBeNull();
  });
});
