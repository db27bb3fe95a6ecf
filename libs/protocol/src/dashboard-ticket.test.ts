import { describe, expect, it } from 'vitest';
import { checkDashboardTicket, DASHBOARD_TICKET_TTL_MS, signDashboardTicket } from './dashboard-ticket';

const VIEWER = 'viewer-token-for-tests-0123456789';
const NOW = 1_800_000_000_000;

describe('dashboard tickets', () => {
  it('are good until they expire, for the token that signed them only', async () => {
    const { ticket, expiresAt } = await signDashboardTicket(VIEWER, NOW);
    expect(expiresAt).toBe(NOW + DASHBOARD_TICKET_TTL_MS);
    expect(ticket).toMatch(new RegExp(`^v1\\.${expiresAt}\\.[A-Za-z0-9_-]{43}$`));
    expect(await checkDashboardTicket(VIEWER, ticket, NOW)).toBeNull();
    expect(await checkDashboardTicket(VIEWER, ticket, expiresAt - 1)).toBeNull();
    expect(await checkDashboardTicket(VIEWER, ticket, expiresAt)).toBe('expired');
    expect(await checkDashboardTicket('another-viewer-token-0123456789', ticket, NOW)).toBe('forged');
  });

  it('refuse a changed expiry, a changed signature, one too far ahead and garbage', async () => {
    const { ticket } = await signDashboardTicket(VIEWER, NOW);
    const [version, expiry, mac] = ticket.split('.') as [string, string, string];
    expect(await checkDashboardTicket(VIEWER, `${version}.${Number(expiry) + 60_000}.${mac}`, NOW)).toBe(
      'forged',
    );
    const flipped = `${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
    expect(await checkDashboardTicket(VIEWER, `${version}.${expiry}.${flipped}`, NOW)).toBe('forged');
    const far = await signDashboardTicket(VIEWER, NOW, 3_600_000);
    expect(await checkDashboardTicket(VIEWER, far.ticket, NOW)).toBe('expired');
    for (const bad of ['', 'v1', `v2.${expiry}.${mac}`, `v1.soon.${mac}`, `v1.${expiry}.${mac}=`, VIEWER]) {
      expect(await checkDashboardTicket(VIEWER, bad, NOW)).toBe('malformed');
    }
  });
});
