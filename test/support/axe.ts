import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults, ImpactValue, Result } from 'axe-core';

/**
 * axe-core in a page driven by playwright-core: the bar is "no serious or critical
 * violation" on every dashboard page (WCAG 2.x A/AA rules plus axe's best practices).
 */
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core');
const BLOCKING: readonly ImpactValue[] = ['serious', 'critical'];

export interface AxeViolation {
  id: string;
  impact: ImpactValue | null | undefined;
  help: string;
  helpUrl: string;
  targets: string[];
  summaries: string[];
}

/** Runs axe on the whole document and returns its violations (every impact). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Browser-side code as strings: the root tsconfig has no DOM lib (as in bench/dashboard.bench.ts).
  const loaded = (await page.evaluate("typeof window.axe === 'object'")) as boolean;
  if (!loaded) await page.addScriptTag({ path: AXE_SOURCE });
  const results = (await page.evaluate(
    "window.axe.run(document, { resultTypes: ['violations'] })",
  )) as AxeResults;
  return results.violations.map((v: Result) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    targets: v.nodes.map((n) => n.target.map(String).join(' ')),
    summaries: v.nodes.map((n) => n.failureSummary ?? ''),
  }));
}

/** One line per violation and one per offending element, readable in a failed assertion. */
export function formatViolations(violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => {
      const nodes = v.targets
        .map((target, i) => `    ${target}\n      ${(v.summaries[i] ?? '').replace(/\n\s*/g, ' ')}`)
        .join('\n');
      return `  [${v.impact ?? 'n/a'}] ${v.id}: ${v.help} (${v.targets.length} element(s); ${v.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/**
 * Fails with every serious or critical violation on the page, named by rule, impact, help and
 * target selectors; milder ones (moderate, minor) are returned for the caller to log.
 */
export async function expectNoSeriousAxeViolations(page: Page, where: string): Promise<AxeViolation[]> {
  const violations = await axeViolations(page);
  const blocking = violations.filter((v) => v.impact && BLOCKING.includes(v.impact));
  if (blocking.length > 0) {
    throw new Error(
      `axe: ${blocking.length} serious/critical violation(s) on ${where}:\n${formatViolations(blocking)}`,
    );
  }
  return violations.filter((v) => !blocking.includes(v));
}
