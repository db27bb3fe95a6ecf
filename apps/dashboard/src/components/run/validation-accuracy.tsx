import { useMemo } from 'react';
import type { ValidationCurves } from '../../lib/run-validation';
import { Chart } from '../chart';
import { validationCurvesOption } from './chart-options';
import styles from './run.module.css';

/** Beside the training curves: validation accuracy after each epoch (lib/run-validation.ts). */
export function ValidationAccuracy({ curves }: { curves: ValidationCurves }) {
  const option = useMemo(() => validationCurvesOption(curves), [curves]);
  const empty = curves.members.length === 0 && curves.ensemble.length === 0;
  return (
    <div>
      <h3>Validation accuracy per member</h3>
      {empty ? (
        <p className={styles.empty} data-testid="validation-empty">
          One point per epoch, once every member has finished it (members are scored on the validation split
          after each epoch).
        </p>
      ) : (
        <Chart
          option={option}
          replace
          height={300}
          testId="chart-member-validation"
          label="Validation accuracy of each member and of the soft-vote ensemble after each epoch"
        />
      )}
    </div>
  );
}
