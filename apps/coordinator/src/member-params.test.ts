import { describe, expect, it } from 'vitest';
import { HttpError, type RunConfigInput } from '@chorus/protocol';
import { ADMIN_TOKEN, httpClient, withCoordinator } from './testing/harness';

/** Small, so a digits mlp crosses it at a few hundred units; the real default is 50 M. */
const LIMIT = 200_000;
const fixture = withCoordinator({ maxMemberParams: LIMIT });

async function launch(config: RunConfigInput): Promise<{ id: string } | HttpError> {
  return httpClient(fixture.coordinator, ADMIN_TOKEN)
    .createRun({ body: config })
    .catch((e: unknown) => {
      if (e instanceof HttpError) return e;
      throw e;
    });
}

// digits is 8×8×1 → 10; an mlp of width w has 64w + w + 3(w² + w) + 10w + 10 parameters.
describe('members over the parameter limit are refused at launch', () => {
  it('answers 400 naming the member, its width, its count and the limit; nothing is stored', async () => {
    const runsBefore = await fixture.prisma.run.count();
    const refused = await launch({
      dataset: 'digits',
      model: 'mlp',
      members: 3,
      memberOverrides: [{ member: 2, width: 1024 }],
    });
    expect(refused).toBeInstanceOf(HttpError);
    expect(refused).toMatchObject({ code: 'invalid-input', status: 400 });
    const { message } = refused as HttpError;
    expect(message).toContain('member 2 (width 1024) has 3,225,610 parameters');
    expect(message).toContain('over the limit of 200,000 parameters per member');
    expect(message).toContain('CHORUS_MAX_MEMBER_PARAMS');
    expect(message).not.toContain('member 0');
    expect(await fixture.prisma.run.count()).toBe(runsBefore);
  });

  it('refuses before reading the dataset: a datasetPath that is not there is not the answer', async () => {
    const refused = await launch({
      dataset: 'digits',
      datasetPath: '/nonexistent/digits.csv',
      members: 1,
      memberOverrides: [{ member: 0, width: 300 }],
    });
    expect((refused as HttpError).message).toContain('member 0 (width 300) has 293,410 parameters');
  });

  it('launches a run whose members fit, with width stored as units', async () => {
    const launched = await launch({
      dataset: 'digits',
      model: 'mlp',
      members: 2,
      epochs: 1,
      memberOverrides: [{ member: 1, width: 128 }],
    });
    expect(launched).not.toBeInstanceOf(HttpError);
    const members = await fixture.repos.members.listByRun((launched as { id: string }).id);
    expect(members.map((m) => m.overrides)).toEqual([{}, { width: 128 }]);
  });
});
