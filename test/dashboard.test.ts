import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { STRATEGY_NAMES, type RunConfigInput, type RunResult } from '@chorus/protocol';
import { expectNoSeriousAxeViolations, formatViolations } from './support/axe';
import { chromiumPath, launchBrowser } from './support/browser';
import { coordinatorApi, getRun, tempDir, waitForRunEnd } from './support/cluster';
import { expectEventually } from './support/eventually';
import { ChorusProcess, REPO_ROOT, dumpProcessOutput, killAll } from './support/processes';

/**
 * The dashboard end to end, on the stack `npm start` runs: `chorus demo --require-auth` (embedded
 * Postgres, the coordinator, the dashboard holding the viewer token, two local workers) with a small MNIST run, watched in Debian's
 * chromium. Screenshots of every page go to test-artifacts/dashboard/ (Run and Compare also at
 * 1024×768). Every page opened is checked with axe-core (no serious or critical violation), the
 * what-if panel and the new-run form are driven from the keyboard alone, and the laptop width never
 * scrolls the page sideways.
 */

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'dashboard');
// Every strategy the coordinator scores: the fixed votes and the learned combiners.
const STRATEGIES = STRATEGY_NAMES;
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
} satisfies RunConfigInput;

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
        // Reads need the viewer token, as on a coordinator bound beyond loopback: the pages read
        // through the dashboard server and the browser's socket shows the server's tickets.
        '--require-auth',
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
    // The whole streamed document is here now, but a page's content may still sit in a hidden
    // segment behind its loading fallback, not yet revealed and hydrated; a click or key before
    // React has hydrated a control is lost (CI once clicked Compute too early and waited 30 s for
    // nothing). React marks each element it hydrates with its props (a `__reactProps$…` key): wait
    // until every control in the document has them.
    await page.waitForFunction(
      `[...document.querySelectorAll('button, input, select, textarea')].every((el) =>
        Object.keys(el).some((key) => key.startsWith('__reactProps$')))`,
      undefined,
      { timeout: 60_000 },
    );
    (page as Page & { errors?: string[] }).errors = errors;
    return page;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /** axe on the page as it is now: serious/critical violations fail, milder ones are printed. */
  const checkA11y = async (page: Page, where: string) => {
    const mild = await expectNoSeriousAxeViolations(page, where);
    if (mild.length > 0) console.info(`axe, ${where} (moderate/minor):\n${formatViolations(mild)}`);
  };
  /** At a laptop's 1024×768: a screenshot `<name>-1024`, no sideways page scroll, axe again; then back to 1280×800. */
  const checkLaptop = async (page: Page, name: string, where: string) => {
    await page.setViewportSize({ width: 1024, height: 768 });
    await expectEventually(
      async () => {
        // Browser-side code as strings: the root tsconfig has no DOM lib (as in bench/dashboard.bench.ts).
        const { scrollWidth, innerWidth } = (await page.evaluate(
          '({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })',
        )) as { scrollWidth: number; innerWidth: number };
        expect(innerWidth).toBe(1024);
        expect(scrollWidth, `${where} scrolls sideways at 1024 px`).toBeLessThanOrEqual(innerWidth);
      },
      10_000,
      { what: `${where} fits 1024 px without sideways scroll` },
    );
    // The charts follow their boxes through a ResizeObserver: let two frames pass before the picture.
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
    await shot(page, `${name}-1024`);
    await checkA11y(page, `${where} at 1024×768`);
    await page.setViewportSize({ width: 1280, height: 800 });
  };
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
      const running = await getRun(coordinatorUrl, runId, adminToken);
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
      await checkA11y(page, 'Run (live)');

      const done = await waitForRunEnd(() => coordinatorUrl, runId, 300_000, adminToken);
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
          expect(shown, `${strategy} ${metric}`).toBeCloseTo(result.ensemble[strategy]?.[metric] ?? NaN, 12);
        }
      }
      await shot(page, 'run-final');
      await checkA11y(page, 'Run (completed)');
      expect((page as Page & { errors?: string[] }).errors).toEqual([]);
      await page.close();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${dumpProcessOutput()}`, { cause: error });
    }
  }, 600_000);

  it('computes a what-if sub-ensemble from the stored predictions', async () => {
    const result = (await getRun(coordinatorUrl, runId, adminToken)).result as RunResult;
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
    await checkA11y(page, 'Run (what-if result)');
    await checkLaptop(page, 'run-what-if', 'Run (what-if result)');
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
    // The client checks the status of a success: 201 Created.
    const { id: secondId } = await coordinatorApi(coordinatorUrl, adminToken).createRun({ body: SECOND_RUN });
    const second = await waitForRunEnd(() => coordinatorUrl, secondId, 300_000, adminToken);
    expect(second.status).toBe('completed');
    const first = await getRun(coordinatorUrl, runId, adminToken);

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
        expect(shown, `${run.id} ${strategy}`).toBeCloseTo(result.ensemble[strategy]?.accuracy ?? NaN, 12);
      }
    }
    const diff = (await page.getByTestId('compare-config-diff').textContent()) ?? '';
    expect(diff).toMatch(/dataset/);
    expect(diff).toMatch(/digits/);
    await shot(page, 'compare');
    await checkA11y(page, 'Compare');
    await checkLaptop(page, 'compare', 'Compare');
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
    await checkA11y(runs, 'Runs');
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
    await checkA11y(workers, 'Workers');

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
    await checkA11y(form, 'New run (launch refused)');
    // Nothing was launched by the refused form.
    const listed = await coordinatorApi(coordinatorUrl, adminToken).listRuns();
    expect(listed.runs).toHaveLength(2);
    for (const page of [runs, workers, form]) await page.close();
  }, 180_000);

  it('ships no TensorFlow.js to the browser and no token in any page', async () => {
    // Every client chunk of the production build the demo started.
    const staticDir = join(REPO_ROOT, 'apps/dashboard/.next/static');
    const chunks = (readdirSync(staticDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) {
      expect(readFileSync(join(staticDir, chunk), 'utf8'), chunk).not.toMatch(/@tensorflow|tfjs-backend/);
    }
    // The read views, as served (HTML and the flight data in it), and the socket ticket: no token
    // (the dashboard server holds the viewer token; browsers get tickets signed with it).
    const { workerToken, viewerToken } = JSON.parse(
      readFileSync(join(dataDir.path, 'tokens.json'), 'utf8'),
    ) as {
      workerToken: string;
      viewerToken: string;
    };
    for (const path of [
      '/',
      '/workers',
      `/runs/${runId}`,
      '/runs/new',
      `/compare?runs=${runId}`,
      `/api/runs/${runId}`,
      '/api/socket-ticket',
    ]) {
      const body = await (await fetch(`${dashboardUrl}${path}`)).text();
      expect(body.length, path).toBeGreaterThan(0);
      expect(body.includes(adminToken), `${path} holds the admin token`).toBe(false);
      expect(body.includes(workerToken), `${path} holds the worker token`).toBe(false);
      expect(body.includes(viewerToken), `${path} holds the viewer token`).toBe(false);
    }
    expect(await (await fetch(`${dashboardUrl}/api/socket-ticket`)).json()).toMatchObject({
      ticket: expect.stringMatching(/^v1\.\d+\.[A-Za-z0-9_-]{43}$/),
    });
  }, 60_000);

  it('operates the what-if panel and the new-run form from the keyboard alone', async () => {
    // What the keyboard focus is on: a key to compare controls by, its label, whether focus is drawn.
    // Browser-side code as strings: the root tsconfig has no DOM lib (as in bench/dashboard.bench.ts).
    const LABEL_OF = `(el) => (el.getAttribute('aria-label') ?? el.labels?.[0]?.textContent ?? el.textContent ?? '').trim()`;
    const KEY_OF = `(el) => el.id || el.getAttribute('name') || (${LABEL_OF})(el)`;
    interface Focused {
      key: string;
      label: string;
      tag: string;
      visible: boolean;
    }
    const focused = async (page: Page): Promise<Focused> =>
      (await page.evaluate(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return { key: 'body', label: '', tag: 'body', visible: false };
        const style = getComputedStyle(el);
        return {
          key: (${KEY_OF})(el),
          label: (${LABEL_OF})(el),
          tag: el.tagName.toLowerCase(),
          visible: el.matches(':focus-visible') && style.outlineStyle !== 'none' && style.outlineWidth !== '0px',
        };
      })()`)) as Focused;
    const tabUntil = async (page: Page, wanted: (f: Focused) => boolean, what: string, max = 80) => {
      const path: string[] = [];
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const f = await focused(page);
        path.push(`${f.tag} "${f.label.slice(0, 30)}"`);
        if (wanted(f)) {
          expect(f.visible, `the focus on ${what} is drawn`).toBe(true);
          return f;
        }
      }
      throw new Error(`Tab never reached ${what}; the focus went: ${path.join(' → ')}`);
    };

    // Run page: Tab to the what-if checkboxes, the Strategy select and Compute; Space, typing and Enter operate them.
    const result = (await getRun(coordinatorUrl, runId, adminToken)).result as RunResult;
    const member0 = result.members.find((m) => m.index === 0)!;
    const page = await open(`/runs/${runId}`);
    const memberBox = (i: number) => page.getByRole('checkbox', { name: `Member ${i}`, exact: true });
    await memberBox(0).waitFor();
    await tabUntil(page, (f) => f.tag === 'input' && f.label === 'Member 0', 'the Member 0 checkbox');
    expect(await memberBox(0).isChecked()).toBe(true);
    await page.keyboard.press('Space');
    expect(await memberBox(0).isChecked()).toBe(false);
    await page.keyboard.press('Space');
    expect(await memberBox(0).isChecked()).toBe(true);
    await tabUntil(page, (f) => f.label === 'Member 1', 'the Member 1 checkbox', 1);
    await page.keyboard.press('Space');
    expect(await memberBox(1).isChecked()).toBe(false);
    await tabUntil(page, (f) => f.tag === 'select' && f.label === 'Strategy', 'the Strategy select', 1);
    await page.keyboard.type('geometric'); // a closed select picks the option typed
    expect(await page.getByLabel('Strategy').inputValue()).toBe('geometric');
    await tabUntil(page, (f) => f.tag === 'button' && f.label === 'Compute', 'the Compute button', 1);
    await page.keyboard.press('Enter');
    await expectEventually(
      async () => {
        expect(await dataValue(page, '[data-testid="what-if-accuracy"]')).toBeCloseTo(
          member0.testAccuracy,
          12,
        );
        expect(await page.getByText(/geometric vote of member 0 /).count()).toBe(1);
      },
      30_000,
      { what: 'Enter on Compute scores member 0 alone, geometric vote' },
    );
    // The focus stays on Compute (a button disabled while busy would drop it to the page's start).
    expect((await focused(page)).label).toBe('Compute');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('soft');
    expect(await page.getByLabel('Strategy').inputValue()).toBe('soft');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expectEventually(
      async () => expect(await page.getByText(/soft vote of member 0 /).count()).toBe(1),
      30_000,
      { what: 'Space on Compute scores member 0 alone, soft vote' },
    );
    await page.close();

    // New run: every field is reached by Tab (Enter opens Advanced), and Enter on "Launch run" submits.
    const form = await open('/runs/new');
    await form.getByTestId('new-run-form').waitFor();
    const visited = new Set<string>();
    const advanced = form.locator('form[data-testid="new-run-form"] details');
    for (;;) {
      const f = await tabUntil(
        form,
        (g) => {
          visited.add(g.key);
          return g.tag === 'summary' || g.label === 'Admin token' || g.label === 'Launch run';
        },
        'the Advanced summary, the admin token or Launch run',
      );
      if (f.tag === 'summary' && (await advanced.getAttribute('open')) === null) {
        await form.keyboard.press('Enter');
        expect(await advanced.getAttribute('open'), 'Enter opens Advanced').not.toBeNull();
      } else if (f.label === 'Admin token') {
        await form.keyboard.type('not-the-admin-token');
      } else if (f.label === 'Launch run') {
        break;
      }
    }
    const controls = (await form.evaluate(
      `[...document.querySelectorAll('form[data-testid="new-run-form"] :is(input, select, textarea, summary, button[type="submit"])')].map(${KEY_OF})`,
    )) as string[];
    expect(controls.length).toBeGreaterThan(10);
    expect(
      controls.filter((key) => !visited.has(key)),
      'form controls Tab never reached',
    ).toEqual([]);
    await form.keyboard.press('Enter');
    await expectEventually(
      async () => expect(await form.getByRole('alert').first().textContent()).toMatch(/token|401|unauthori/i),
      30_000,
      { what: 'Enter on Launch run submits (and the wrong token is refused)' },
    );
    const listed = await coordinatorApi(coordinatorUrl, adminToken).listRuns();
    expect(listed.runs).toHaveLength(2);
    expect((page as Page & { errors?: string[] }).errors).toEqual([]);
    expect((form as Page & { errors?: string[] }).errors).toEqual([]);
    await form.close();
  }, 180_000);
});
