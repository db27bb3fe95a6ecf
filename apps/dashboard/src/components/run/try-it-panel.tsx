'use client';

import { useEffect, useId, useRef, useState } from 'react';
import type { PredictAnswer } from '@chorus/protocol';
import { ENTER_ADMIN_TOKEN } from '../../lib/admin-token-words';
import { parseCsvRow } from '../../lib/csv-row';
import { drawingToRow } from '../../lib/drawing';
import { formatPercent } from '../../lib/format';
import { inputKindOf } from '../../lib/try-it-input';
import { AdminTokenField, useAdminToken } from '../admin-token';
import { predictRun } from '../../server/coordinator-actions';
import styles from './run.module.css';

type State =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'error'; message: string }
  | { kind: 'done'; answer: PredictAnswer };

const CANVAS = 280;

/**
 * "Try it" on a completed run: draw (28×28 single-channel datasets; lib/drawing.ts turns the
 * drawing into the dataset's raw 0–255 pixels) or paste a CSV row, and the run's ensemble answers
 * through the dashboard server (coordinator-actions.ts `predictRun`, the admin token the user
 * typed): every member's probabilities, each strategy's decision, and where the members disagree.
 */
export function TryItPanel({ runId, datasetName }: { runId: string; datasetName: string }) {
  const input = inputKindOf(datasetName);
  const { token } = useAdminToken();
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [csv, setCsv] = useState('');
  const [mode, setMode] = useState<'draw' | 'csv'>(input.kind === 'image' ? 'draw' : 'csv');
  const canvas = useRef<HTMLCanvasElement>(null);
  const preview = useRef<HTMLCanvasElement>(null);
  const drawing = useRef<{ x: number; y: number } | null>(null);
  const csvId = useId();

  const clear = () => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, CANVAS, CANVAS);
    preview.current?.getContext('2d')?.clearRect(0, 0, 28, 28);
  };
  useEffect(clear, [mode]);

  const point = (e: React.PointerEvent<HTMLCanvasElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return {
      x: ((e.clientX - rect.left) * CANVAS) / rect.width,
      y: ((e.clientY - rect.top) * CANVAS) / rect.height,
    };
  };
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }) => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 18;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  };

  /** The drawing as raw pixels, shown in the 28×28 preview as the members will see it. */
  const drawnRow = (): number[] | null => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx || input.kind !== 'image') return null;
    const { data } = ctx.getImageData(0, 0, CANVAS, CANVAS);
    const ink = new Uint8ClampedArray(CANVAS * CANVAS);
    for (let i = 0; i < ink.length; i++) ink[i] = data[i * 4] as number; // red channel: white ink on black
    const row = drawingToRow(ink, CANVAS, CANVAS, { size: input.side, fit: input.fit });
    const small = preview.current?.getContext('2d');
    if (small) {
      const image = small.createImageData(input.side, input.side);
      row.forEach((v, i) => image.data.set([v, v, v, 255], i * 4));
      small.putImageData(image, 0, 0);
    }
    return row;
  };

  const predict = async () => {
    if (state.kind === 'busy') return;
    if (!token.trim())
      return setState({
        kind: 'error',
        message: ENTER_ADMIN_TOKEN,
      });
    let row: number[];
    if (mode === 'draw') {
      const drawn = drawnRow();
      if (!drawn || drawn.every((v) => v === 0))
        return setState({ kind: 'error', message: 'Draw something first.' });
      row = drawn;
    } else {
      const parsed = parseCsvRow(csv, input.features);
      if (!parsed.ok) return setState({ kind: 'error', message: parsed.message });
      row = parsed.values;
    }
    setState({ kind: 'busy' });
    try {
      const result = await predictRun(token, runId, [row]);
      setState(
        result.ok ? { kind: 'done', answer: result.answer } : { kind: 'error', message: result.message },
      );
    } catch (e) {
      setState({
        kind: 'error',
        message: `The dashboard server did not answer (${(e as Error).message}). Retry.`,
      });
    }
  };

  return (
    <section className={`panel ${styles.section}`} aria-labelledby="try-it-heading" data-testid="try-it">
      <h2 id="try-it-heading">Try it</h2>
      <p className={styles.explain} style={{ marginTop: 0, marginBottom: 10 }}>
        {input.kind === 'image'
          ? `Draw a sample (it is scaled to ${input.side}×${input.side} as the dataset's images were) or paste a row of raw values; the ensemble answers.`
          : `Paste one row of ${input.features ?? 'the'} raw feature values, as the dataset's files hold them; the ensemble answers.`}
      </p>
      <AdminTokenField />
      {input.kind === 'image' && (
        <div role="radiogroup" aria-label="Input" className={styles.tryMode}>
          {(['draw', 'csv'] as const).map((m) => (
            <label key={m}>
              <input type="radio" name="try-it-mode" checked={mode === m} onChange={() => setMode(m)} />{' '}
              {m === 'draw' ? 'Draw' : 'Paste a CSV row'}
            </label>
          ))}
        </div>
      )}
      <form
        className={styles.tryIt}
        onSubmit={(e) => {
          e.preventDefault();
          void predict();
        }}
      >
        {mode === 'draw' ? (
          <div className={styles.tryCanvas}>
            <canvas
              ref={canvas}
              width={CANVAS}
              height={CANVAS}
              data-testid="try-it-canvas"
              aria-label="Drawing area: draw with the mouse, a finger or a pen (or paste a CSV row instead)"
              role="img"
              onPointerDown={(e) => {
                e.currentTarget.setPointerCapture(e.pointerId);
                drawing.current = point(e);
                stroke(drawing.current, drawing.current);
              }}
              onPointerMove={(e) => {
                if (!drawing.current) return;
                const next = point(e);
                stroke(drawing.current, next);
                drawing.current = next;
              }}
              onPointerUp={() => {
                drawing.current = null;
                drawnRow();
              }}
            />
            <div>
              <canvas ref={preview} width={28} height={28} className={styles.tryPreview} aria-hidden="true" />
              <small className="muted">what the members see</small>
            </div>
          </div>
        ) : (
          <div className="field" style={{ maxWidth: 'none' }}>
            <label htmlFor={csvId}>Raw values</label>
            <textarea
              id={csvId}
              rows={3}
              value={csv}
              onChange={(e) => setCsv(e.target.value)}
              data-testid="try-it-csv"
            />
          </div>
        )}
        <div className={styles.tryButtons}>
          <button type="submit" aria-disabled={state.kind === 'busy' || undefined}>
            {state.kind === 'busy' ? 'Predicting…' : 'Predict'}
          </button>
          {mode === 'draw' && (
            <button type="button" className="secondary" onClick={clear}>
              Clear
            </button>
          )}
        </div>
      </form>
      {state.kind === 'error' && (
        <p role="alert" className="error-text">
          {state.message}
        </p>
      )}
      {state.kind === 'done' && <PredictionView answer={state.answer} />}
    </section>
  );
}

/** One row's answer: the ensemble's class, each strategy's decision, each member's probabilities as bars. */
function PredictionView({ answer }: { answer: PredictAnswer }) {
  const row = answer.predictions[0];
  if (!row) return null;
  const names = answer.classNames;
  const dissenters = row.members.filter((m) => m.class !== row.class).length;
  return (
    <div className={styles.tryResult} data-testid="try-it-answer" aria-live="polite">
      <p>
        Ensemble ({answer.strategy}): <strong data-testid="try-it-class">{row.className}</strong> (
        {formatPercent(row.probability)}).{' '}
        <span data-testid="try-it-disagreement">
          {dissenters === 0
            ? 'Every member agrees.'
            : `${dissenters} of ${row.members.length} members choose another class; pairwise disagreement ${formatPercent(row.disagreement)}.`}
        </span>
      </p>
      <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Each strategy's decision">
        <table>
          <caption className="sr-only">Each strategy’s decision</caption>
          <thead>
            <tr>
              <th scope="col">Strategy</th>
              <th scope="col">Class</th>
              <th scope="col">Score</th>
            </tr>
          </thead>
          <tbody>
            {row.strategies.map((s) => (
              <tr key={s.strategy} data-testid={`try-it-strategy-${s.strategy}`}>
                <th scope="row">{s.strategy}</th>
                <td>{s.className}</td>
                <td>{formatPercent(s.probability)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Members</h3>
      <div className={styles.tableScroll} tabIndex={0} role="region" aria-label="Each member's probabilities">
        <table className={styles.memberBars}>
          <caption className="sr-only">Each member’s probability of each class</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              {names.map((n, c) => (
                <th scope="col" key={c}>
                  {n}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {row.members.map((m) => (
              <tr
                key={m.member}
                data-testid={`try-it-member-${m.member}`}
                data-disagrees={m.class !== row.class || undefined}
              >
                <th scope="row">
                  {m.member}
                  {m.class !== row.class && (
                    <span className={styles.dissent}> ≠ {names[m.class] ?? m.class}</span>
                  )}
                </th>
                {m.probabilities.map((p, c) => (
                  <td key={c} title={`${names[c] ?? c}: ${formatPercent(p)}`}>
                    <span
                      className={styles.bar}
                      data-chosen={c === m.class || undefined}
                      style={{ height: `${Math.max(1, p * 40)}px` }}
                    />
                    <span className="sr-only">{formatPercent(p)}</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
