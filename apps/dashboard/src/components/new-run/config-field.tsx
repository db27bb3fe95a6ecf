import type { ReactNode } from 'react';
import type { FieldSpec } from '../../lib/config-form';
import styles from './new-run.module.css';

export interface ConfigFieldProps {
  spec: FieldSpec;
  value: string;
  errors: readonly string[] | undefined;
  onChange: (value: string) => void;
  onBlur: () => void;
  /** A select option's shown text, when not the value itself (e.g. "mnist (not on the coordinator)"). */
  optionLabel?: (option: string) => string;
  /** Shown under the help (e.g. how to get a dataset the coordinator lacks). */
  notice?: ReactNode;
}

export const fieldId = (name: string) => `run-${name}`;

/** One run-config field: labelled input, its help, and its errors wired with aria-invalid / aria-describedby. */
export function ConfigField({
  spec,
  value,
  errors,
  onChange,
  onBlur,
  optionLabel,
  notice,
}: ConfigFieldProps) {
  const id = fieldId(spec.name);
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const invalid = (errors?.length ?? 0) > 0;
  const common = {
    id,
    name: spec.name,
    'aria-invalid': invalid,
    'aria-describedby': invalid ? `${errorId} ${helpId}` : helpId,
    onBlur,
  };
  const bounds =
    spec.min !== undefined && spec.max !== undefined
      ? ` (${spec.min}–${spec.max})`
      : spec.max !== undefined
        ? ` (at most ${spec.max})`
        : spec.min !== undefined
          ? ` (at least ${spec.min})`
          : '';
  const defaultNote = spec.defaultText && spec.kind !== 'json' ? ` Default ${spec.defaultText}.` : '';

  let control;
  if (spec.kind === 'select') {
    control = (
      <select {...common} value={value} onChange={(e) => onChange(e.target.value)}>
        {spec.optional && <option value="">(the model’s default)</option>}
        {spec.options?.map((o) => (
          <option key={o} value={o}>
            {optionLabel ? optionLabel(o) : o}
          </option>
        ))}
      </select>
    );
  } else if (spec.kind === 'json') {
    control = (
      <textarea
        {...common}
        className={styles.json}
        rows={6}
        spellCheck={false}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else if (spec.kind === 'int' || spec.kind === 'number') {
    control = (
      <input
        {...common}
        type="number"
        inputMode={spec.kind === 'int' ? 'numeric' : 'decimal'}
        step={spec.kind === 'int' ? 1 : 'any'}
        {...(spec.min !== undefined && { min: spec.min })}
        {...(spec.max !== undefined && { max: spec.max })}
        placeholder={spec.optional ? 'not set' : `default ${spec.defaultText}`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        placeholder={spec.optional ? 'optional' : ''}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }

  return (
    <div className={`field ${spec.kind === 'json' ? styles.wide : ''}`} data-field={spec.name}>
      <label htmlFor={id} className={styles.label}>
        {spec.label}
      </label>
      {control}
      <small id={helpId}>
        {spec.help}
        {bounds && ` Range${bounds}.`}
        {defaultNote}
      </small>
      {notice}
      {invalid && (
        <div id={errorId} className="error" data-testid={`error-${spec.name}`}>
          {errors?.map((message) => (
            <div key={message}>{message}</div>
          ))}
        </div>
      )}
    </div>
  );
}
