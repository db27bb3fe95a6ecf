import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema, STRATEGY_NAMES } from '@chorus/protocol';
import { expectNoSeriousAxeViolations } from './support/axe';
import { chromiumPath, launchBrowser } from './support/browser';
import { ADMIN_TOKEN, getRun, waitForRunEnd, withCluster } from './support/cluster';
import { expectEventually } from './support/eventually';
import { writePatternFolder } from './support/image-folder';
import { ChorusProcess, REPO_ROOT } from './support/processes';

/**
 * An image-folder run launched from the dashboard (README "The dashboard", New run and Run): a
 * folder of generated PNGs under the coordinator's data dir (one of its dataset roots), the New run
 * form in Debian's chromium with dataset `images` and that path, one real worker process; the run
 * page then names the folder's classes in the per-class table and the confusion matrix, with the
 * numbers of the stored result. Screenshot: test-artifacts/dashboard/run-images-classes.png.
 */

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
const CLASSES = ['checker', 'horizontal', 'vertical'];

const requireBrowser = Boolean(process.env.CI);
const haveBrowser = chromiumPath() !== undefined;
if (!haveBrowser && !requireBrowser) {
  console.warn(
    'test/dashboard-images.test.ts skipped: no chromium (apt-get install chromium, or set CHROMIUM_PATH)',
  );
}

describe.skipIf(!haveBrowser && !requireBrowser)('an image-folder run through the dashboard', () => {
  const db = withTestDatabase();
  const cluster = withCluster(db, { workers: ['e2e-dash-img'] });
  let dashboardUrl = '';
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const dashboard = new ChorusProcess(
      'dashboard',
      ['dashboard', '--port', '0', '--coordinator', cluster.coordinator.url, '--data-dir', cluster.dataDir],
      { DATABASE_URL: db.connectionString },
    );
    // The first start builds the dashboard (next build) when its sources changed.
    dashboardUrl = (
      await dashboard.waitForLine('stderr', /serving on (http:\/\/127\.0\.0\.1:\d+)/, 600_000)
    )[1]!;
    browser = await launchBrowser();
  }, 660_000);

  afterAll(async () => {
    await browser?.close();
  });

  const open = async (path: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${dashboardUrl}${path}`, { waitUntil: 'domcontentloaded' });
    // Every control hydrated before any key or click (see test/dashboard.test.ts).
    await page.waitForFunction(
      `[...document.querySelectorAll('button, input, select, textarea')].every((el) =>
        Object.keys(el).some((key) => key.startsWith('__reactProps$')))`,
      undefined,
      { timeout: 60_000 },
    );
    return page;
  };

  it('launches kind images from the New run form and shows the classes, per class and confused', async () => {
    // 3 classes × 15 tiny PNGs (12 × 12 grayscale), under the coordinator's data dir.
    const folder = join(cluster.dataDir, 'patterns');
    await writePatternFolder(folder, 15);

    const form = await open('/runs/new');
    const errors: string[] = [];
    form.on('pageerror', (error) => errors.push(error.message));
    await form.locator('#run-dataset').selectOption('images');
    await expectEventually(
      async () => expect(await form.getByTestId('dataset-own-files').count()).toBe(1),
      10_000,
      { what: 'the form explains a path the coordinator reads' },
    );
    await form.locator('#run-datasetPath').fill(folder);
    await form.locator('#run-model').selectOption('mlp');
    await form.locator('#run-members').fill('2');
    await form.locator('#run-epochs').fill('3');
    await form.locator('#run-batchSize').fill('8');
    await form.locator('#run-seed').fill('4');
    await form.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await form.getByRole('button', { name: 'Launch run' }).click();
    // The form goes to the new run's page, or says why the coordinator refused.
    const runId = await expectEventually(
      async () => {
        const refusal = form.getByTestId('launch-error');
        if ((await refusal.count()) > 0) throw new Error(`launch refused: ${await refusal.textContent()}`);
        const path = new URL(form.url()).pathname;
        expect(path).toMatch(/^\/runs\/[\w-]+$/);
        expect(path).not.toBe('/runs/new');
        return decodeURIComponent(path.slice('/runs/'.length));
      },
      60_000,
      { what: 'the form opens the launched run' },
    );

    const done = await waitForRunEnd(() => cluster.coordinator.url, runId, 300_000);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(done.config).toMatchObject({ dataset: 'images', datasetPath: folder, model: 'mlp' });
    const result = RunResultSchema.parse((await getRun(cluster.coordinator.url, runId)).result);
    const classes = result.classes!;
    expect(classes.names).toEqual(CLASSES);

    const page = form;
    await expectEventually(
      async () => expect(await page.getByTestId('run-status').textContent()).toMatch(/completed/i),
      30_000,
      { what: 'the run page shows the run completed' },
    );
    // The per-class table: a row per class by name, a column per strategy and member, the result's numbers.
    const table = page.locator('table[data-testid="class-accuracy"]');
    await table.waitFor({ timeout: 30_000 });
    expect(await table.locator('tbody th[scope="row"]').allTextContents()).toEqual(CLASSES);
    for (const [c, name] of CLASSES.entries()) {
      const row = table.locator(`tr[data-class="${name}"]`);
      for (const s of STRATEGY_NAMES) {
        const shown = Number(await row.locator(`td[data-strategy="${s}"]`).getAttribute('data-value'));
        expect(shown, `${name} ${s}`).toBeCloseTo(classes.strategyAccuracy?.[s]?.[c] ?? NaN, 12);
      }
      for (const m of [0, 1]) {
        const shown = Number(await row.locator(`td[data-member="${m}"]`).getAttribute('data-value'));
        expect(shown, `${name} member ${m}`).toBeCloseTo(classes.memberAccuracy?.[m]?.[c] ?? NaN, 12);
      }
    }

    // The confusion matrix: the best strategy's by default, class names on both axes, then another one picked.
    const best = STRATEGY_NAMES.reduce((a, s) =>
      (result.ensemble[s]?.accuracy ?? -1) > (result.ensemble[a]?.accuracy ?? -1) ? s : a,
    );
    const matrix = page.locator('table[data-testid="confusion-matrix"]');
    const expectMatrix = async (strategy: string) => {
      expect(await matrix.getAttribute('data-strategy')).toBe(strategy);
      expect(await matrix.locator('tbody th[scope="row"]').allTextContents()).toEqual(CLASSES);
      expect(await matrix.locator('thead th[data-predicted]').allTextContents()).toEqual(CLASSES);
      const counts = classes.confusion?.[strategy as (typeof STRATEGY_NAMES)[number]];
      for (const [t, trueName] of CLASSES.entries()) {
        for (const [p, predicted] of CLASSES.entries()) {
          const shown = await matrix
            .locator(`td[data-true="${trueName}"][data-predicted="${predicted}"]`)
            .getAttribute('data-value');
          expect(Number(shown), `${strategy} ${trueName} → ${predicted}`).toBe(counts?.[t]?.[p]);
        }
      }
    };
    await expectMatrix(best);
    await page.screenshot({ path: join(ARTIFACTS, 'run-images-classes.png'), fullPage: true });
    const other = best === 'hard' ? 'geometric' : 'hard';
    await page.getByLabel('Confusion matrix of', { exact: true }).selectOption(other);
    await expectEventually(async () => expectMatrix(other), 10_000, { what: `the ${other} matrix shows` });
    await expectNoSeriousAxeViolations(page, 'Run (image classes)');
    expect(errors).toEqual([]);
    await page.close();
  }, 420_000);
});
