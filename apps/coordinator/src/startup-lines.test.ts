import { describe, expect, it } from 'vitest';
import { startupLines } from './startup-lines';

const url = 'http://127.0.0.1:4000';

describe('startupLines', () => {
  it('says what the URL serves: the HTTP API and two socket.io namespaces', () => {
    expect(startupLines({ url, port: 4000, tokensGenerated: false }, '.chorus')).toEqual([
      'Chorus coordinator listening on http://127.0.0.1:4000 (HTTP API under /api; workers and dashboards connect over socket.io, namespaces /workers and /dashboard)',
    ]);
  });

  it('on the first start, says once how to start a worker, print the tokens and open the dashboard', () => {
    const text = startupLines(
      { url, port: 4000, tokensFile: '/srv/chorus/tokens.json', tokensGenerated: true },
      '/srv/chorus',
    ).join('\n');
    expect(text).toContain(
      'First start: worker, admin and viewer tokens generated into /srv/chorus/tokens.json',
    );
    expect(text).toContain('npx chorus worker --coordinator http://127.0.0.1:4000 --data-dir /srv/chorus');
    expect(text).toContain(
      'CHORUS_WORKER_TOKEN=<worker token> npx chorus worker --coordinator http://<this host>:4000',
    );
    expect(text).toContain('listens on loopback only');
    expect(text).toContain('npx chorus tokens --data-dir /srv/chorus');
    expect(text).toContain('npx chorus dashboard --coordinator http://127.0.0.1:4000 --data-dir /srv/chorus');
  });

  it('on later starts, only where the tokens are and how to print them; no --data-dir for the default', () => {
    const lines = startupLines(
      { url: 'http://10.0.0.5:4000', port: 4000, tokensFile: '.chorus/tokens.json', tokensGenerated: false },
      '.chorus',
    );
    expect(lines.slice(1)).toEqual([
      'worker, admin and viewer tokens: .chorus/tokens.json (`npx chorus tokens` prints them)',
    ]);
  });

  it('says when every request needs a token', () => {
    const lines = startupLines(
      { url: 'https://0.0.0.0:4000', port: 4000, tokensGenerated: false, authRequired: true },
      '.chorus',
    );
    expect(lines[1]).toMatch(/^every request needs a token here: reads take the viewer \(or admin\) token/);
  });
});
