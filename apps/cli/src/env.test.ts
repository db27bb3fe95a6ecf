import { describe, expect, it } from 'vitest';
import { parseEnv } from './env';

describe("the CLI's environment", () => {
  it("reads chorus serve's token, and leaves it out when unset", () => {
    expect(parseEnv({ CHORUS_SERVE_TOKEN: 'serve-token-0123456789' }).CHORUS_SERVE_TOKEN).toBe(
      'serve-token-0123456789',
    );
    expect(parseEnv({}).CHORUS_SERVE_TOKEN).toBeUndefined();
  });

  it('refuses an empty token, naming the variable', () => {
    expect(() => parseEnv({ CHORUS_SERVE_TOKEN: '' })).toThrow(/CHORUS_SERVE_TOKEN/);
  });
});
