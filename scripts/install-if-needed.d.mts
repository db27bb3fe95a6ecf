export function installReason(times: {
  installedAt: number | undefined;
  lockChangedAt: number;
}): string | undefined;
export function installTimes(root: string): { installedAt: number | undefined; lockChangedAt: number };
