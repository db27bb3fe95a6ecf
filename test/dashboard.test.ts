import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { RunResult } from '@chorus/protocol';
import { chromiumPath, launchBrowser } from './support/browser';
import { getRun, request, tempDir, waitForRunEnd } from './support/cluster';
import { expectEventually } from './support/eventually';
import { ChorusProcess, REPO_ROOT, dumpProcessOutput, killAll } from './support/processes';

/**
 * The dashboard end to end, on the stack `npm start` runs: `chorus demo` (embedded Postgres, the
 * coordinator, the dashboard, two local workers) with a small MNIST run, watched in Debian's
 * chromium. Screenshots of every page go to test-artifacts/dashboard/.
 */

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const STRATEGIES = ['hard', 'soft', 'weighted-soft', 'weighted-hard', 'geometric'] as const;
const METRICS = ['accuracy', 'nll', 'brier', 'ece', 'gainOverBest', 'gainOverMean'] as const;

// Long enough to watch live (a few seconds per epoch per member on two busy cores).
const RUN = {
  dataset: 'mnist',
  model: 'mlp',
  members: 2,
  epochs: 5,
  batchSize: 32,
  trainLimit: 30_000,
  seed: 7,
};
const SECOND_RUN = {
  dataset: 'digits',
  model: 'mlp',
  members: 3,
  epochs: 3,
  batchSize: 32,
  seed: 3,
  name: 'digits for compare',
};

// In CI the browser is installed by .ci/run and must be there; elsewhere a machine without chromium skips, loudly.
const requireBrowser = Boolean(process.env.CI);
const haveBrowser = chromiumPath() !== undefined;
if (!haveBrowser && !requireBrowser) {
  console.warn(
    'test/dashboard.test.ts skipped: no chromium (apt-get install chromium, or set CHROMIUM_PATH)',
  );
}

describe.skipIf(!haveBrowser && !requireBrowser)('dashboard end to end (chorus demo + chromium)', () => {
  let dataDir: Awaited<ReturnType<typeof tempDir>>;
  let demo: ChorusProcess;
  let coordinatorUrl = '';
  let dashboardUrl = '';
  let runId = '';
  let adminToken = '';
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = await tempDir('chorus-dashboard-e2e-');
    const configPath = join(dataDir.path, 'run.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(configPath, JSON.stringify(RUN)));
    demo = new ChorusProcess(
      'demo',
      [
        'demo',
        '--port',
        '0',
        '--dashboard-port',
        '0',
        '--workers',
        '2',
        '--data-dir',
        dataDir.path,
        '--config',
        configPath,
      ],
      { CHORUS_CACHE_DIR: join(dataDir.path, 'cache') },
    );
    coordinatorUrl = (
      await demo.waitForLine('stderr', /coordinator on (http:\/\/127\.0\.0\.1:\d+)/, 120_000)
    )[1]!;
    const live = await demo.waitForLine(
      'stderr',
      /watch it live at (http:\/\/127\.0\.0\.1:\d+)\/runs\/(\S+)/,
      300_000,
    );
    dashboardUrl = live[1]!;
    runId = live[2]!;
    adminToken = (
      JSON.parse(readFileSync(join(dataDir.path, 'tokens.json'), 'utf8')) as { adminToken: string }
    ).adminToken;
    browser = await launchBrowser();
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    demo?.signal('SIGTERM');
    await Promise.race([demo?.exited, new Promise((r) => setTimeout(r, 15_000))]);
    await killAll();
    await dataDir?.remove();
  });

  const open = async (path: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${dashboardUrl}${path}`, { waitUntil: 'domcontentloaded' });
    (page as Page & { errors?: string[] }).errors = errors;
    return page;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const dataValue = async (page: Page, selector: string): Promise<number> => {
    const raw = await page.locator(selector).first().getAttribute('data-value');
    if (raw === null) throw new Error(`${selector} has no data-value`);
    return Number(raw);
  };

  it('shows the run live while it trains, then the final table equal to the API', async () => {
    try {
      const page = await open(`/runs/${runId}`);
      await expectEventually(
        async () => expect(await page.getByTestId('connection-state').textContent()).toMatch(/live/i),
        60_000,
        {
          what: 'the run page joins the run over socket.io',
        },
      );

      // Live: a member's step shown on the page changes without reloading the page.
      const running = await getRun(coordinatorUrl, runId);
      expect(['pending', 'running']).toContain(running.status);
      const stepOf = async (i: number) =>
        Number((await page.getByTestId(`member-step-${i}`).textContent())?.replace(/\D/g, '') || '0');
      const first = await expectEventually(
        async () => {
          const s = Math.max(await stepOf(0), await stepOf(1));
          expect(s).toBeGreaterThan(0);
          return s;
        },
        120_000,
        { what: 'a member shows training steps' },
      );
      await expectEventually(
        async () => expect(Math.max(await stepOf(0), await stepOf(1))).toBeGreaterThan(first),
        60_000,
        {
          what: 'the steps shown change live',
        },
      );
      await shot(page, 'run-live');

      const done = await waitForRunEnd(() => coordinatorUrl, runId, 300_000);
      expect(done.status).toBe('completed');
      const result = done.result as RunResult;

      await expectEventually(
        async () => expect(await page.getByTestId('run-status').textContent()).toMatch(/completed/i),
        30_000,
        {
          what: 'the page shows the run completed',
        },
      );
      const table = page.locator('table[data-testid="final-table"]');
      await expectEventually(
        async () => expect(await table.getAttribute('data-source')).toBe('result'),
        30_000,
        {
          what: 'the final table shows the stored result',
        },
      );
      for (const strategy of STRATEGIES) {
        for (const metric of METRICS) {
          const shown = await dataValue(
            page,
            `table[data-testid="final-table"] tr[data-strategy="${strategy}"] td[data-metric="${metric}"]`,
          );
          expect(shown, `${strategy} ${metric}`).toBeCloseTo(result.ensemble[strategy][metric], 12);
        }
      }
      await shot(page, 'run-final');
      expect((page as Page & { errors?: string[] }).errors).toEqual([]);
      await page.close();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${dumpProcessOutput()}`, { cause: error });
    }
  }, 600_000);

  it('computes a what-if sub-ensemble from the stored predictions', async () => {
    const result = (await getRun(coordinatorUrl, runId)).result as RunResult;
    const page = await open(`/runs/${runId}`);
    const memberBox = (i: number) => page.getByRole('checkbox', { name: `Member ${i}`, exact: true });
    const strategy = page.getByLabel('Strategy');
    const compute = async () => {
      await page.getByRole('button', { name: 'Compute' }).click();
    };

    // Every member, soft vote: the run's own soft vote.
    for (const i of [0, 1]) await memberBox(i).check();
    await strategy.selectOption('soft');
    await compute();
    await expectEventually(
      async () =>
        expect(await dataValue(page, '[data-testid="what-if-accuracy"]')).toBeCloseTo(
          result.ensemble.soft.accuracy,
          12,
        ),
      30_000,
      { what: 'what-if with every member equals the soft vote' },
    );
    // One member alone: that member's test accuracy, whatever the strategy.
    await memberBox(1).uncheck();
    await strategy.selectOption('geometric');
    await compute();
    const member0 = result.members.find((m) => m.index === 0)!;
    await expectEventually(
      async () =>
        expect(await dataValue(page, '[data-testid="what-if-accuracy"]')).toBeCloseTo(
          member0.testAccuracy,
          12,
        ),
      30_000,
      { what: 'what-if with member 0 alone equals its accuracy' },
    );
    await shot(page, 'run-what-if');
    // No member: refused with a message.
    await memberBox(0).uncheck();
    await compute();
    await expectEventually(
      async () => expect(await page.getByRole('alert').first().textContent()).toMatch(/member/i),
      10_000,
      {
        what: 'an empty selection is refused',
      },
    );
    await page.close();
  }, 120_000);

  it('compares two runs side by side with the API numbers', async () => {
    const launched = await request<{ id: string }>(coordinatorUrl, 'POST', '/api/runs', {
      token: adminToken,
      body: SECOND_RUN,
    });
    expect(launched.status).toBe(201);
    const secondId = launched.body.id;
    const second = await waitForRunEnd(() => coordinatorUrl, secondId, 300_000);
    expect(second.status).toBe('completed');
    const first = await getRun(coordinatorUrl, runId);

    const page = await open(`/compare?runs=${runId},${secondId}`);
    await expectEventually(
      async () => expect(await page.locator('table[data-testid="compare-table"]').count()).toBe(1),
      30_000,
      {
        what: 'the compare table renders',
      },
    );
    for (const run of [first, second]) {
      const result = run.result as RunResult;
      for (const strategy of STRATEGIES) {
        const shown = await dataValue(
          page,
          `table[data-testid="compare-table"] td[data-run="${run.id}"][data-strategy="${strategy}"][data-metric="accuracy"]`,
        );
        expect(shown, `${run.id} ${strategy}`).toBeCloseTo(result.ensemble[strategy].accuracy, 12);
      }
    }
    const diff = (await page.getByTestId('compare-config-diff').textContent()) ?? '';
    expect(diff).toMatch(/dataset/);
    expect(diff).toMatch(/digits/);
    await shot(page, 'compare');
    await page.close();
  }, 420_000);

  it('lists runs and workers, and refuses a launch with a wrong admin token', async () => {
    const runs = await open('/');
    await expectEventually(
      async () => expect(await runs.getByTestId(`run-row-${runId}`).count()).toBe(1),
      30_000,
      {
        what: 'the runs page lists the run',
      },
    );
    expect(await runs.getByTestId(`run-status-${runId}`).textContent()).toMatch(/completed/i);
    await shot(runs, 'runs');
    // Tick both runs and follow "Compare selected".
    const rows = runs.locator('tr[data-testid^="run-row-"]');
    expect(await rows.count()).toBe(2);
    for (let i = 0; i < 2; i++) await rows.nth(i).locator('input[type="checkbox"]').check();
    await runs.getByTestId('compare-selected').click();
    await runs.waitForURL(/\/compare\?/);
    await runs.locator('table[data-testid="compare-table"]').waitFor();
    expect(
      await runs.locator(`table[data-testid="compare-table"] td[data-run="${runId}"]`).count(),
    ).toBeGreaterThan(0);

    const workers = await open('/workers');
    await expectEventually(
      async () => expect(await workers.locator('tr[data-testid^="worker-row-"]').count()).toBe(2),
      30_000,
      {
        what: 'the workers page lists the two demo workers',
      },
    );
    await shot(workers, 'workers');

    const form = await open('/runs/new');
    await form.getByLabel('Admin token').fill('not-the-admin-token');
    await form.getByRole('button', { name: 'Launch run' }).click();
    await expectEventually(
      async () => expect(await form.getByRole('alert').first().textContent()).toMatch(/token|401|unauthori/i),
      30_000,
      {
        what: 'a wrong token is refused with a message',
      },
    );
    await shot(form, 'new-run');
    // Nothing was launched by the refused form.
    const listed = await request<{ runs: unknown[] }>(coordinatorUrl, 'GET', '/api/runs');
    expect(listed.body.runs).toHaveLength(2);
    for (const page of [runs, workers, form]) await page.close();
  }, 180_000);
});
