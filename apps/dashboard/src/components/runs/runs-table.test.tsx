// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { RunListItem } from '@chorus/protocol';
import { RunsTable } from './runs-table';

afterEach(cleanup);

const run = (id: string, overrides: Partial<RunListItem> = {}): RunListItem => ({
  id,
  name: `run ${id}`,
  status: 'completed',
  datasetName: 'digits',
  model: 'mlp',
  modelFile: null,
  members: 3,
  epochs: 2,
  sharding: 'round-robin',
  seed: 1,
  error: null,
  createdAt: new Date('2026-11-29T20:00:00Z'),
  startedAt: new Date('2026-11-29T20:00:05Z'),
  finishedAt: new Date('2026-11-29T20:01:47Z'),
  best: { strategy: 'soft', accuracy: 0.9312, source: 'result', round: null },
  ...overrides,
});

describe('RunsTable', () => {
  const runs = ['a', 'b', 'c', 'd', 'e'].map((id) => run(id));

  it('shows each run with its status, best strategy and its source', () => {
    render(
      <RunsTable
        now="2026-11-29T20:05:00Z"
        runs={[
          run('a'),
          run('r', {
            status: 'running',
            finishedAt: null,
            best: { strategy: 'geometric', accuracy: 0.5, source: 'round', round: 3 },
          }),
          run('p', { status: 'pending', startedAt: null, finishedAt: null, best: null }),
        ]}
      />,
    );
    const a = screen.getByTestId('run-row-a');
    expect(within(a).getByRole('link', { name: 'run a' }).getAttribute('href')).toBe('/runs/a');
    expect(screen.getByTestId('run-status-a').textContent).toBe('completed');
    expect(a.textContent).toContain('soft 93.12%final result');
    expect(a.textContent).toContain('took 1 min 42 s');
    // Created in full; started and finished on the same day: only the time (the full one in the tooltip).
    expect([...a.querySelectorAll('time')].map((t) => [t.textContent, t.getAttribute('title')])).toEqual([
      ['2026-11-29 20:00', '2026-11-29 20:00:00 UTC'],
      ['20:00', '2026-11-29 20:00:05 UTC'],
      ['20:01', '2026-11-29 20:01:47 UTC'],
    ]);
    expect(screen.getByTestId('run-row-r').textContent).toContain('epoch 4');
    expect(screen.getByTestId('run-row-r').textContent).toContain('running for 4 min 55 s');
    expect(screen.getByTestId('run-row-p').textContent).toContain('no evaluation yet');
    expect(screen.getByTestId('run-row-p').textContent).toContain('waiting for a worker');
  });

  it('links two to four selected runs to the Compare page and stops at four', () => {
    render(<RunsTable runs={runs} now="2026-11-29T20:05:00Z" />);
    const box = (id: string) =>
      screen.getByRole('checkbox', { name: `Select run ${id} for comparison` }) as HTMLInputElement;
    expect((screen.getByTestId('compare-selected') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(box('c'));
    fireEvent.click(box('a'));
    expect(screen.getByTestId('compare-selected').getAttribute('href')).toBe('/compare?runs=c,a');
    fireEvent.click(box('b'));
    fireEvent.click(box('d'));
    expect(screen.getByTestId('compare-selected').textContent).toBe('Compare selected (4)');
    expect(box('e').disabled).toBe(true);
    fireEvent.click(box('a'));
    expect(box('e').disabled).toBe(false);
    expect(screen.getByTestId('compare-selected').getAttribute('href')).toBe('/compare?runs=c,b,d');
  });
});
