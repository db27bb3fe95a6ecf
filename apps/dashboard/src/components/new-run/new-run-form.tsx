'use client';

import { useMemo, useRef, useState, useTransition, type FormEvent, type ReactNode } from 'react';
import { AdminTokenField, useAdminToken } from '../admin-token';
import {
  DEFAULT_FORM,
  FIELD_SPECS,
  countErrors,
  validateForm,
  type FieldName,
  type FormState,
} from '../../lib/config-form';
import { DEFAULT_MAX_MEMBER_PARAMS, isFileDatasetKind, type DatasetListing } from '@chorus/protocol';
import { ENTER_ADMIN_TOKEN } from '../../lib/admin-token-words';
import { memberList, memberSizeRows } from '../../lib/member-sizes';
import { ConfigField, fieldId } from './config-field';
import styles from './new-run.module.css';

export type LaunchResult = { ok: true; id: string } | { ok: false; status: number; message: string };

export interface NewRunFormProps {
  initial?: FormState;
  /** Sends the config to the coordinator (the `launchRun` server action). */
  launch: (token: string, config: unknown) => Promise<LaunchResult>;
  /** Called with the new run's id (navigates to its page). */
  onLaunched: (id: string) => void;
  /** A note above the form, e.g. which run the values were copied from. */
  note?: string;
  /** What the coordinator has (its `listDatasets`); null when it could not be asked. */
  datasets?: readonly DatasetListing[] | null;
}

const GROUPS: ReadonlyArray<{ title: string; fields: readonly FieldName[]; advanced?: boolean }> = [
  { title: 'Ensemble', fields: ['name', 'members', 'model', 'sharding', 'seed'] },
  { title: 'Data', fields: ['dataset', 'datasetPath', 'datasetOptions', 'trainLimit', 'validationFraction'] },
  { title: 'Training', fields: ['epochs', 'batchSize', 'learningRate', 'optimizer'] },
  { title: 'Advanced', fields: ['memberOverrides', 'datasetBundle'], advanced: true },
];
const GROUPED = new Set(GROUPS.flatMap((g) => g.fields));
/** A schema field no group names still gets an input (in Advanced). */
const UNGROUPED = FIELD_SPECS.filter((s) => !GROUPED.has(s.name)).map((s) => s.name);

function statusHint(status: number): string {
  // A refused token (401, 403) is already said in the page's words (lib/admin-token-words.ts).
  if (status === 503) return '';
  if (status === 400) return 'The coordinator refused the config. ';
  return '';
}

/**
 * The run config as a form generated from RunConfigSchema: errors appear next to each field once
 * it was edited (all of them after a launch attempt), the JSON preview shows exactly what will be
 * sent with each member's parameter count under it (lib/member-sizes.ts), and the coordinator's refusal (wrong token, missing dataset, …) is shown in an alert.
 */
export function NewRunForm({
  initial = DEFAULT_FORM,
  launch,
  onLaunched,
  note,
  datasets = null,
}: NewRunFormProps) {
  const [form, setForm] = useState<FormState>(initial);
  const [touched, setTouched] = useState<ReadonlySet<FieldName>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const { token } = useAdminToken();
  const alertRef = useRef<HTMLDivElement>(null);

  const validation = useMemo(() => validateForm(form), [form]);
  const shown = (name: FieldName) => (submitted || touched.has(name) ? validation.errors[name] : undefined);
  const total = countErrors(validation.errors);
  const preview = JSON.stringify(validation.ok ? validation.config : validation.input, null, 2);
  const sizes = useMemo(() => (validation.ok ? memberSizeRows(validation.config) : null), [validation]);
  // A model file's members all have its layers: its name says more than a width it does not take.
  const modelFile = validation.ok ? validation.config.modelFile : undefined;
  const sizeLabel = (width: number) => (modelFile ? modelFile.fileName : `width ${width}`);
  const ownFiles = isFileDatasetKind(form.dataset);

  const set = (name: FieldName) => (value: string) => {
    setForm((f) => ({ ...f, [name]: value }));
    setTouched((t) => (t.has(name) ? t : new Set(t).add(name)));
  };
  const blur = (name: FieldName) => () => setTouched((t) => (t.has(name) ? t : new Set(t).add(name)));

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSubmitted(true);
    setFailure(null);
    if (!validation.ok) {
      const first = FIELD_SPECS.find((s) => validation.errors[s.name]);
      if (first) {
        const el = document.getElementById(fieldId(first.name));
        el?.closest('details')?.setAttribute('open', '');
        el?.focus();
      }
      return;
    }
    if (token.trim() === '') {
      setFailure(ENTER_ADMIN_TOKEN);
      requestAnimationFrame(() => alertRef.current?.focus());
      return;
    }
    const config = validation.config;
    startTransition(async () => {
      const result = await launch(token, config);
      if (result.ok) {
        onLaunched(result.id);
      } else {
        const pathHint =
          result.status === 400 && /dataset/i.test(result.message)
            ? ' If the coordinator keeps this dataset elsewhere, set “Dataset path”.'
            : '';
        // The coordinator's message starts lower-case (it reads as a clause in logs): a sentence here.
        const message = result.message.charAt(0).toUpperCase() + result.message.slice(1);
        setFailure(`${statusHint(result.status)}${message} (HTTP ${result.status})${pathHint}`);
        requestAnimationFrame(() => alertRef.current?.focus());
      }
    });
  };

  const renderField = (name: FieldName) => {
    const spec = FIELD_SPECS.find((s) => s.name === name);
    if (!spec) return null;
    // Options of a csv/npy/images dataset only when one is chosen.
    if (name === 'datasetOptions' && !ownFiles && form.datasetOptions.trim() === '') return null;
    return (
      <ConfigField
        key={name}
        spec={spec}
        value={form[name]}
        errors={shown(name)}
        onChange={set(name)}
        onBlur={blur(name)}
        {...(name === 'dataset' && datasetHints(datasets, form.dataset, form.datasetPath))}
      />
    );
  };

  const formErrors = submitted ? validation.errors._form : undefined;

  return (
    <form
      className={styles.layout}
      onSubmit={onSubmit}
      noValidate
      aria-label="Run config"
      data-testid="new-run-form"
    >
      <div className={styles.fields}>
        {note && <p className="notice">{note}</p>}
        {GROUPS.map((group) => {
          const fields = group.advanced ? [...group.fields, ...UNGROUPED] : group.fields;
          const body = <div className={styles.groupFields}>{fields.map(renderField)}</div>;
          if (!group.advanced) {
            return (
              <fieldset key={group.title} className={styles.group}>
                <legend>{group.title}</legend>
                {body}
              </fieldset>
            );
          }
          const hasErrors = fields.some((f) => shown(f));
          return (
            <details key={group.title} className={styles.group} open={hasErrors || undefined}>
              <summary>{group.title}: per-member overrides, uploaded dataset bundle</summary>
              {body}
            </details>
          );
        })}
      </div>

      <aside className={styles.side} aria-label="Launch">
        <div className="panel">
          <h2>Launch</h2>
          <AdminTokenField />
          {submitted && total > 0 && (
            <p className="error-text" data-testid="form-error-summary">
              {total === 1 ? '1 problem' : `${total} problems`} to fix before launching (marked next to the
              fields).
            </p>
          )}
          {formErrors && (
            <ul className="error-text">
              {formErrors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          )}
          {failure && (
            <div
              className="notice error"
              role="alert"
              tabIndex={-1}
              ref={alertRef}
              data-testid="launch-error"
            >
              {failure}
            </div>
          )}
          <div className="toolbar">
            <button type="submit" disabled={pending} data-testid="launch-run">
              {pending ? 'Launching…' : 'Launch run'}
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setForm(DEFAULT_FORM);
                setTouched(new Set());
                setSubmitted(false);
                setFailure(null);
              }}
            >
              Reset to defaults
            </button>
          </div>
        </div>
        <div className="panel">
          <h2 id="config-preview-title">Config (JSON)</h2>
          <p className="muted">
            {validation.ok
              ? 'Exactly what will be sent, with the defaults filled in.'
              : 'Not valid yet: the fields that are empty take their defaults.'}
          </p>
          <pre className={styles.preview} aria-labelledby="config-preview-title" data-testid="config-preview">
            {preview}
          </pre>
          <h3 id="member-sizes-title">Member sizes</h3>
          {sizes === null ? (
            <p className="muted">
              {validation.ok && ownFiles
                ? 'Counted by the coordinator once it has read the files (their shape is not known here).'
                : 'Counted once the config is valid.'}
            </p>
          ) : (
            <ul className={styles.sizes} aria-labelledby="member-sizes-title" data-testid="member-sizes">
              {sizes.map((row) => (
                <li key={row.width} className={row.overDefaultLimit ? 'error-text' : undefined}>
                  {memberList(row.members)} ({sizeLabel(row.width)}):{' '}
                  {row.params === null
                    ? `cannot be built: ${row.error ?? 'the input does not fit the model'}`
                    : `${row.params.toLocaleString('en-US')} parameters`}
                  {row.overDefaultLimit &&
                    ` — over the default limit of ${DEFAULT_MAX_MEMBER_PARAMS.toLocaleString('en-US')}: the coordinator refuses it unless its CHORUS_MAX_MEMBER_PARAMS allows more`}
                </li>
              ))}
            </ul>
          )}
          <p className="muted">
            <code>width</code> is the units of the model’s widest hidden layer; the coordinator refuses a
            member over its parameter limit.
          </p>
        </div>
      </aside>
    </form>
  );
}

/**
 * The dataset select's marks: a dataset the coordinator cannot load at its default place reads
 * "(not on the coordinator)", and choosing it says how to get it (libs/data HOW_TO_GET) unless a
 * dataset path is set.
 */
function datasetHints(
  datasets: readonly DatasetListing[] | null,
  chosen: string,
  datasetPath: string,
): { optionLabel?: (option: string) => string; notice?: ReactNode } {
  if (isFileDatasetKind(chosen)) {
    return {
      notice: (
        <p className="notice" role="status" data-testid="dataset-own-files">
          <strong>Your own {chosen} data:</strong> the browser cannot upload files. Give a{' '}
          <em>Dataset path</em> the coordinator can read (under its dataset roots), or launch from the machine
          that has the file with <code>chorus run --dataset {chosen} --dataset-path …</code>, which uploads
          it.
        </p>
      ),
    };
  }
  if (!datasets) return {};
  const absent = new Map(datasets.filter((d) => !d.present).map((d) => [d.name as string, d]));
  const missing = datasetPath.trim() === '' ? absent.get(chosen) : undefined;
  return {
    optionLabel: (option) => (absent.has(option) ? `${option} (not on the coordinator)` : option),
    ...(missing && {
      notice: (
        <p className="notice" role="status" data-testid="dataset-missing">
          <strong>{missing.name} is not on the coordinator</strong> (looked in{' '}
          {missing.source || 'its default place'}
          ). {missing.howToGet}
        </p>
      ),
    }),
  };
}
