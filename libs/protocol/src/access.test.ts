import { describe, expect, it } from 'vitest';
import { ACCESS_LEVELS, ACCESS_TOKENS, isLoopbackHost, openWithoutAuth } from './access';

describe('isLoopbackHost', () => {
  it('is true for addresses only this machine reaches', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      'LOCALHOST',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('is false for every address the network reaches, the wildcards included', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.5',
      '192.168.1.2',
      'gpu-box',
      '128.0.0.1',
      '127.0.0.1.example.com',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('access levels', () => {
  it('open only reads and liveness without auth, and admit the admin token to every read', () => {
    expect(ACCESS_LEVELS.filter(openWithoutAuth)).toEqual(['viewer', 'any']);
    expect(ACCESS_TOKENS.viewer).toContain('admin');
    expect(ACCESS_TOKENS.admin).toEqual(['admin']);
    expect(ACCESS_TOKENS.worker).toEqual(['worker']);
  });
});
