import type { RunningCoordinator } from './coordinator';

/**
 * What the coordinator says when it starts: where it listens, and where the tokens are. On the
 * data dir's first start (the tokens were just generated), once, how to start a worker and open the
 * dashboard. Tokens themselves are never printed: logs and terminals get copied around.
 */
export function startupLines(
  coordinator: Pick<RunningCoordinator, 'url' | 'port' | 'tokensFile' | 'tokensGenerated'> &
    Partial<Pick<RunningCoordinator, 'authRequired'>>,
  dataDir: string,
): string[] {
  const lines = [
    `Chorus coordinator listening on ${coordinator.url} (HTTP API under /api; workers and dashboards ` +
      'connect over socket.io, namespaces /workers and /dashboard)',
  ];
  if (coordinator.authRequired) {
    lines.push(
      'every request needs a token here: reads take the viewer (or admin) token, `chorus dashboard` passes it (README "Operating Chorus")',
    );
  }
  if (coordinator.tokensFile === undefined) return lines; // both tokens came from the environment
  const dir = dataDir === '.chorus' ? '' : ` --data-dir ${dataDir}`;
  const loopback = /^http:\/\/(127\.|localhost|\[::1\])/.test(coordinator.url);
  if (!coordinator.tokensGenerated) {
    lines.push(
      `worker, admin and viewer tokens: ${coordinator.tokensFile} (\`npx chorus tokens${dir}\` prints them)`,
    );
    return lines;
  }
  lines.push(
    `First start: worker, admin and viewer tokens generated into ${coordinator.tokensFile} (mode 0600, kept`,
    `for the next starts; set CHORUS_WORKER_TOKEN / CHORUS_ADMIN_TOKEN / CHORUS_VIEWER_TOKEN to choose them). To go on:`,
    `  a worker on this machine:     npx chorus worker --coordinator ${coordinator.url}${dir}`,
    `  a worker on another machine:  CHORUS_WORKER_TOKEN=<worker token> npx chorus worker --coordinator ${coordinator.url.split(':')[0]}://<this host>:${coordinator.port}`,
    ...(loopback
      ? [
          '                                (this coordinator listens on loopback only: start it with --host 0.0.0.0 for that)',
        ]
      : []),
    `  print the tokens:             npx chorus tokens${dir}`,
    `  the dashboard:                npx chorus dashboard --coordinator ${coordinator.url}${dir}`,
    `                                (New run and Cancel ask for the admin token)`,
  );
  return lines;
}
