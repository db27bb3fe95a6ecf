// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { finalTableOf } from '../../lib/run-final-table';
import type { RunMemberView } from '../../server/run-data';
import { FinalTable } from './final-table';
import { MembersTable } from './members-table';
import { WhatIfPanel } from './what-if-panel';
import { LiveAccuracies } from './live-accuracies';
import { AccuracyDiversity } from './diversity-panel';
import { StrategyAccuracy } from './strategy-accuracy';

afterEach(cleanup);

const scores = (accuracy: number, nll: number) => ({
  accuracy,
  nll,
  brier: 0.2,
  ece: 0.1,
  gainOverBest: accuracy - 0.7,
  gainOverMean: accuracy - 0.6,
});

describe('FinalTable', () => {
  it('carries the raw numbers and marks the best value of each column', () => {
    const table = finalTableOf({
      result: null,
      latestRound: null,
      live: { ensemble: { test: { soft: scores(0.1 + 0.2, 0.5), hard: scores(0.25, 0.4) } } },
      members: [{ index: 0, testAccuracy: 0.2 }],
    })!;
    const { container } = render(<FinalTable table={table} />);
    const el = screen.getByTestId('final-table');
    expect(el.dataset.source).toBe('live');
    const soft = container.querySelector('tr[data-strategy="soft"]')!;
    const accuracy = soft.querySelector('td[data-metric="accuracy"]') as HTMLElement;
    expect(accuracy.dataset.value).toBe(String(0.1 + 0.2)); // full precision: 0.30000000000000004
    expect(accuracy.className).toContain('best');
    const hardNll = container.querySelector('tr[data-strategy="hard"] td[data-metric="nll"]') as HTMLElement;
    expect(hardNll.className).toContain('best'); // lower is better
    expect((soft.querySelector('td[data-metric="nll"]') as HTMLElement).className).not.toContain('best');
    const member = container.querySelector('tr[data-member="0"]')!;
    expect(within(member as HTMLElement).getByText('Member 0')).toBeTruthy();
    expect((member.querySelector('td[data-metric="nll"]') as HTMLElement).dataset.value).toBeUndefined();
  });
});

describe('MembersTable', () => {
  const member = (over: Partial<Record<string, unknown>> = {}) =>
    ({
      id: 'm',
      index: 2,
      status: 'running',
      workerId: 'abcdef0123',
      attempt: 1,
      leaseExpiresAt: null,
      overrides: {},
      step: 7,
      epoch: 1,
      planOffset: 7,
      samples: 100,
      totalBatches: 28,
      progress: 0.25,
      samplesPerSecond: 1234.4,
      valAccuracy: 0.5,
      testAccuracy: null,
      error: null,
      ...over,
    }) as unknown as RunMemberView;
  const names = { abcdef0123: 'local-0' };

  it('shows step, epoch and progress per member', () => {
    render(<MembersTable members={[member()]} runStatus="running" workerNames={names} />);
    expect(screen.getByTestId('member-row-2')).toBeTruthy();
    expect(screen.getByTestId('member-step-2').textContent).toBe('7');
    // Stored 0-based, shown 1-based: epoch 1 is the second epoch.
    expect(screen.getByTestId('member-epoch-2').textContent).toBe('2');
    expect(screen.getByRole('progressbar', { name: 'Member 2 progress' })).toBeTruthy();
  });

  it('says which worker trains a member, by name, linked to its row on the Workers page', () => {
    render(
      <MembersTable
        members={[member({ status: 'leased', step: 0 })]}
        runStatus="running"
        workerNames={names}
      />,
    );
    expect(screen.getByTestId('member-status-2').textContent).toBe('starting on local-0');
    const links = within(screen.getByTestId('member-worker-2')).getAllByRole('link');
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['local-0', '/workers#worker-abcdef0123'],
    ]);
    cleanup();
    render(<MembersTable members={[member()]} runStatus="running" workerNames={names} />);
    expect(screen.getByTestId('member-status-2').textContent).toBe('training on local-0');
  });

  it('shows the device of the worker that trains a member', () => {
    const devices = { abcdef0123: 'GPU 1: NVIDIA H200 (vulkan; vendor nvidia; architecture hopper)' };
    render(
      <MembersTable members={[member()]} runStatus="running" workerNames={names} workerDevices={devices} />,
    );
    expect(screen.getByTestId('member-device-2').textContent).toBe(devices.abcdef0123);
    cleanup();
    render(<MembersTable members={[member()]} runStatus="running" workerNames={names} />);
    expect(screen.queryByTestId('member-device-2')).toBeNull();
  });

  it('reads "cancelled" for an unfinished member of a cancelled run, not "pending"', () => {
    const members = [
      member({ index: 0, status: 'completed', workerId: null }),
      member({ status: 'pending', workerId: null }),
    ];
    render(<MembersTable members={members} runStatus="cancelled" workerNames={{}} />);
    expect(screen.getByTestId('member-status-0').textContent).toBe('completed');
    expect(screen.getByTestId('member-status-2').textContent).toBe('cancelled');
    expect(screen.getByTestId('member-worker-2').textContent).toBe('—');
  });
});

describe('WhatIfPanel', () => {
  it('has labelled controls and refuses an empty sub-ensemble before asking the server', () => {
    render(<WhatIfPanel runId="r1" memberCount={3} />);
    for (const i of [0, 1, 2]) fireEvent.click(screen.getByRole('checkbox', { name: `Member ${i}` }));
    expect((screen.getByLabelText('Strategy') as HTMLSelectElement).value).toBe('soft');
    expect(screen.getByRole('combobox', { name: 'Strategy' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Compute' }));
    expect(screen.getByRole('alert').textContent).toBe('Choose at least one member.');
  });
});

describe('Voting charts before any evaluation', () => {
  it('show a sentence and no empty axes', () => {
    render(<StrategyAccuracy rounds={[]} live={null} memberCount={4} />);
    render(<AccuracyDiversity rounds={[]} memberCount={4} />);
    expect(screen.getByTestId('strategy-empty').textContent).toMatch(/No evaluation yet/);
    expect(screen.queryByTestId('chart-strategy-accuracy')).toBeNull();
    expect(screen.queryByTestId('chart-accuracy-diversity')).toBeNull();
  });

  it('draws the live view while not every member has finished an epoch, and says so', () => {
    // jsdom has no layout, hence no ResizeObserver (the browser test draws the real chart).
    vi.stubGlobal(
      'ResizeObserver',
      class {
        observe() {}
        disconnect() {}
      },
    );
    onTestFinished(() => void vi.unstubAllGlobals());
    const live = {
      round: -1,
      memberCount: 2,
      ensemble: {
        validation: {},
        test: { soft: { accuracy: 0.8, nll: 0.5, brier: 0.2, ece: 0.1, gainOverBest: 0, gainOverMean: 0 } },
      },
      diversity: { validation: null, test: null },
    };
    render(<StrategyAccuracy rounds={[]} live={live} memberCount={4} />);
    expect(screen.getByTestId('chart-strategy-accuracy')).toBeTruthy();
    expect(screen.getByTestId('strategy-live-note').textContent).toBe(
      '○ Live: 2 of 4 members, each after its latest epoch — the line starts once every member has finished an epoch.',
    );
  });
});

describe('learned combiners', () => {
  it('are offered in the what-if drop-down after the votes', () => {
    render(<WhatIfPanel runId="r1" memberCount={3} />);
    const select = screen.getByLabelText('Strategy') as HTMLSelectElement;
    const groups = [...select.querySelectorAll('optgroup')].map((g) => [
      g.label,
      [...g.querySelectorAll('option')].map((o) => o.value),
    ]);
    expect(groups).toEqual([
      ['Votes', ['hard', 'soft', 'weighted-soft', 'weighted-hard', 'geometric']],
      ['Learned on the validation split', ['stacking', 'optimal-weights', 'selection']],
    ]);
  });

  it('appear among the live accuracies, marked as learned', () => {
    render(
      <LiveAccuracies live={{ soft: { accuracy: 0.9 }, stacking: { accuracy: 0.93 } }} memberCount={3} />,
    );
    expect(screen.getByTestId('live-accuracy-soft').textContent).toBe('soft90.00%');
    expect(screen.getByTestId('live-accuracy-stacking').textContent).toBe('stacking (learned)93.00%');
  });
});
