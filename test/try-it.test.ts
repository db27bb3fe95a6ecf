import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { PredictAnswerSchema, type PredictAnswer } from '@chorus/protocol';
import { expectNoSeriousAxeViolations } from './support/axe';
import { chromiumPath, launchBrowser } from './support/browser';
import { coordinatorApi, tempDir, waitForRunEnd } from './support/cluster';
import { ChorusProcess, REPO_ROOT, dumpProcessOutput, killAll } from './support/processes';

/**
 * The "try it" panel end to end: `chorus demo` trains a small MNIST ensemble; in chromium a stroke
 * is drawn on the completed run's page and the answer shown is the coordinator's predict route's
 * for the same 28×28 row (read back from the panel's preview), which is in turn exactly what
 * `chorus serve` answers for the export the coordinator wrote, and what `chorus predict` prints.
 */

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'try-it');
const RUN = {
  dataset: 'mnist',
  model: 'mlp',
  members: 2,
  epochs: 1,
  batchSize: 64,
  trainLimit: 3_000,
  seed: 4,
};
const SERVE_TOKEN = 'serve-token-for-e2e-0123456789';

const requireBrowser = Boolean(process.env.CI);
const haveBrowser = chromiumPath() !== undefined;
if (!haveBrowser && !requireBrowser) console.warn('test/try-it.test.ts skipped: no chromium');

describe.skipIf(!haveBrowser && !requireBrowser)(
  'the try-it panel (chorus demo + chromium + chorus serve)',
  () => {
    let dataDir: Awaited<ReturnType<typeof tempDir>>;
    let demo: ChorusProcess;
    let coordinatorUrl = '';
    let dashboardUrl = '';
    let runId = '';
    let adminToken = '';
    let browser: Browser;

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      dataDir = await tempDir('chorus-try-it-');
      const configPath = join(dataDir.path, 'run.json');
      writeFileSync(configPath, JSON.stringify(RUN));
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
        600_000,
      );
      dashboardUrl = live[1]!;
      runId = live[2]!;
      adminToken = (
        JSON.parse(readFileSync(join(dataDir.path, 'tokens.json'), 'utf8')) as { adminToken: string }
      ).adminToken;
      browser = await launchBrowser();
    }, 720_000);

    afterAll(async () => {
      await browser?.close();
      demo?.signal('SIGTERM');
      await Promise.race([demo?.exited, new Promise((r) => setTimeout(r, 15_000))]);
      await killAll();
      await dataDir?.remove();
    });

    it('draws a stroke and shows the ensemble answer, equal to the predict route, chorus serve and chorus predict', async () => {
      try {
        const done = await waitForRunEnd(() => coordinatorUrl, runId, 600_000);
        expect(done.status).toBe('completed');
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(`${dashboardUrl}/runs/${runId}`, { waitUntil: 'domcontentloaded' });
        const canvas = page.getByTestId('try-it-canvas');
        await canvas.waitFor({ timeout: 60_000 });
        // Hydrated: React has attached its props to every control (see test/dashboard.test.ts).
        await page.waitForFunction(
          `[...document.querySelectorAll('button, input, textarea')].every((el) =>
          Object.keys(el).some((key) => key.startsWith('__reactProps$')))`,
          undefined,
          { timeout: 60_000 },
        );
        await page.getByLabel('Admin token').fill(adminToken);

        // A "7": a bar across the top, then a stroke down to the lower left.
        await canvas.scrollIntoViewIfNeeded();
        const box = (await canvas.boundingBox())!;
        const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
        await page.mouse.move(...at(0.25, 0.2));
        await page.mouse.down();
        for (const [fx, fy] of [
          [0.5, 0.2],
          [0.75, 0.2],
          [0.6, 0.5],
          [0.45, 0.85],
        ] as const) {
          await page.mouse.move(...at(fx, fy), { steps: 8 });
        }
        await page.mouse.up();
        await page.getByRole('button', { name: 'Predict' }).click();
        const answerBox = page.getByTestId('try-it-answer');
        await answerBox.waitFor({ timeout: 120_000 });
        await page.screenshot({ path: join(ARTIFACTS, 'try-it.png'), fullPage: true });

        // The row the members saw: the preview canvas holds it as grey levels.
        const row = (await page.evaluate(`(() => {
        const preview = document.querySelector('[data-testid="try-it"] canvas[width="28"]');
        const data = preview.getContext('2d').getImageData(0, 0, 28, 28).data;
        return Array.from({ length: 784 }, (_, i) => data[i * 4]);
      })()`)) as number[];
        expect(row.some((v) => v > 0)).toBe(true);

        const fromRoute = await coordinatorApi(coordinatorUrl, adminToken).predictRun({
          params: { id: runId },
          body: { rows: [row] },
        });
        const prediction = fromRoute.predictions[0]!;
        expect(await page.getByTestId('try-it-class').textContent()).toBe(prediction.className);
        for (const s of prediction.strategies) {
          await expect
            .poll(() => page.getByTestId(`try-it-strategy-${s.strategy}`).locator('td').first().textContent())
            .toBe(s.className);
        }
        expect(await page.locator('[data-testid^="try-it-member-"]').count()).toBe(RUN.members);
        await expectNoSeriousAxeViolations(page, 'Run page with the try-it answer');
        expect(errors).toEqual([]);

        // chorus serve on the export the coordinator wrote: the same answer, to the last digit.
        const serve = new ChorusProcess(
          'serve',
          ['serve', '--ensemble', join(dataDir.path, 'exports', runId), '--port', '0', '--backend', 'wasm'],
          { CHORUS_SERVE_TOKEN: SERVE_TOKEN },
        );
        const serveUrl = (
          await serve.waitForLine('stderr', /serving on (http:\/\/127\.0\.0\.1:\d+)/, 120_000)
        )[1]!;
        const served = await fetch(`${serveUrl}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${SERVE_TOKEN}` },
          body: JSON.stringify({ rows: [row] }),
        });
        expect(served.status).toBe(200);
        const fromServe: PredictAnswer = PredictAnswerSchema.parse(await served.json());
        expect(fromServe).toEqual(fromRoute);
        serve.signal('SIGTERM');
        await serve.exited;
      } catch (error) {
        console.error(dumpProcessOutput());
        throw error;
      }
    }, 900_000);
  },
);
