'use client';

import { useId, useState } from 'react';
import { isLearnedCombiner, LEARNED_COMBINERS, VOTING_STRATEGIES } from '@chorus/ensemble';
import { ChorusError, DashboardHttpError, fetchDashboardRoute } from '@chorus/protocol';
import { formatEpoch, formatGain, formatNumber, formatPercent } from '../../lib/format';
import { parseWhatIfInput, whatIfQuery, type WhatIfResult } from '../../lib/run-what-if';
import styles from './run.module.css';

type State =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'error'; message: string }
  | { kind: 'done'; result: WhatIfResult };

/**
 * "What if only these members voted, this way?" — scored by the coordinator from the stored
 * predictions of the latest round the chosen members share (app/api/runs/[id]/what-if).
 */
export function WhatIfPanel({ runId, memberCount }: { runId: string; memberCount: number }) {
  const [chosen, setChosen] = useState<ReadonlySet<number>>(
    () => new Set(Array.from({ length: memberCount }, (_, i) => i)),
  );
  const [strategy, setStrategy] = useState<string>('soft');
  const [state, setState] = useState<State>({ kind: 'idle' });
  const strategyId = useId();

  const toggle = (index: number) =>
    setChosen((prev) => {
      const next = new Set(prev);
      if (next.has(index)) next.delete(index);
      else next.add(index);
      return next;
    });

  const compute = async () => {
    const input = parseWhatIfInput({ members: [...chosen], strategy }, memberCount);
    if (!input.ok) return setState({ kind: 'error', message: input.message });
    setState({ kind: 'busy' });
    try {
      const result = await fetchDashboardRoute('getWhatIf', {
        params: { id: runId },
        query: whatIfQuery(input.value),
      });
      setState({ kind: 'done', result });
    } catch (e) {
      // A refusal carries the dashboard server's message; a malformed answer names the route and field.
      const message =
        e instanceof DashboardHttpError
          ? e.reason
          : e instanceof ChorusError
            ? `${e.message}; is the coordinator the same Chorus version?`
            : `The dashboard server cannot be reached (${(e as Error).message}).`;
      setState({ kind: 'error', message });
    }
  };

  return (
    <section className={`panel ${styles.section}`} aria-labelledby="what-if-heading">
      <h2 id="what-if-heading">What if…</h2>
      <p className={styles.explain} style={{ marginTop: 0, marginBottom: 10 }}>
        Score a sub-ensemble on the test split from the stored predictions (the weighted votes’ weights and
        the learned combiners are fitted on the validation split).
      </p>
      <div className={styles.whatIf}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (state.kind !== 'busy') void compute();
          }}
        >
          <fieldset className={styles.members}>
            <legend>Members</legend>
            {Array.from({ length: memberCount }, (_, i) => (
              <label key={i}>
                <input type="checkbox" checked={chosen.has(i)} onChange={() => toggle(i)} />
                Member {i}
              </label>
            ))}
          </fieldset>
          <div className="toolbar">
            <div className="field" style={{ marginBottom: 0 }}>
              <label htmlFor={strategyId} style={{ fontWeight: 600 }}>
                Strategy
              </label>
              <select id={strategyId} value={strategy} onChange={(e) => setStrategy(e.target.value)}>
                <optgroup label="Votes">
                  {VOTING_STRATEGIES.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Learned on the validation split">
                  {LEARNED_COMBINERS.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </optgroup>
              </select>
            </div>
            {/* aria-disabled, not disabled: a disabled button drops the keyboard focus to the page's start. */}
            <button
              type="submit"
              aria-disabled={state.kind === 'busy' || undefined}
              style={{ alignSelf: 'flex-end' }}
            >
              Compute
            </button>
          </div>
        </form>
        <div aria-live="polite">
          {state.kind === 'busy' && <p className="muted">Computing…</p>}
          {state.kind === 'error' && (
            <p role="alert" className="error-text">
              {state.message}
            </p>
          )}
          {state.kind === 'done' && <WhatIfResultView result={state.result} />}
        </div>
      </div>
    </section>
  );
}

function WhatIfResultView({ result }: { result: WhatIfResult }) {
  const t = result.test;
  return (
    <div>
      <p style={{ margin: 0 }}>
        {result.strategy} {isLearnedCombiner(result.strategy) ? 'combiner' : 'vote'} of member
        {result.members.length === 1 ? '' : 's'} {result.members.map((m) => m.index).join(', ')} (
        {formatEpoch(result.round)}), test accuracy
      </p>
      <p
        className={styles.result}
        data-testid="what-if-accuracy"
        data-value={String(t.accuracy)}
        style={{ margin: '4px 0' }}
      >
        {formatPercent(t.accuracy)}
      </p>
      <dl className={styles.facts}>
        <div>
          <dt>NLL</dt>
          <dd data-testid="what-if-nll">{formatNumber(t.nll)}</dd>
        </div>
        <div>
          <dt>Brier</dt>
          <dd>{formatNumber(t.brier)}</dd>
        </div>
        <div>
          <dt>ECE</dt>
          <dd>{formatNumber(t.ece)}</dd>
        </div>
        <div>
          <dt>Gain over its best member</dt>
          <dd>{formatGain(t.gainOverBest)}</dd>
        </div>
        <div>
          <dt>Gain over its mean member</dt>
          <dd>{formatGain(t.gainOverMean)}</dd>
        </div>
      </dl>
      <p className={styles.explain}>
        Members’ test accuracy (weight):{' '}
        {result.members
          .map((m) => `#${m.index} ${formatPercent(m.testAccuracy, 1)} (${m.weight.toFixed(2)})`)
          .join(' · ')}
      </p>
    </div>
  );
}
