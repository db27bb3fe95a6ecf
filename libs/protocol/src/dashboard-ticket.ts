/**
 * Dashboard tickets: what a browser shows the coordinator's `/dashboard` namespace instead of a
 * token. The dashboard server holds the viewer token and never sends it to the browser; it signs
 * short-lived tickets with a key derived from that token, and the coordinator, which knows the
 * same token, checks them. A ticket is `v1.<expires-at ms>.<HMAC-SHA256 base64url>`.
 *
 * Why signed by the dashboard server rather than issued by a coordinator route: no extra round
 * trip or route to protect, the coordinator keeps no ticket state, and a ticket is worth no more
 * than what the dashboard already shows. WebCrypto (`globalThis.crypto.subtle`), not node:crypto,
 * so this file has no import a browser bundle would trip over.
 */

import { z } from 'zod';

/** The dashboard server's answer to its browsers (GET /api/socket-ticket): null without a viewer token. */
export const DashboardTicketAnswerSchema = z.object({
  ticket: z.string().min(1).max(512).nullable(),
  expiresAt: z.number().int().optional(),
});
export type DashboardTicketAnswer = z.infer<typeof DashboardTicketAnswerSchema>;

const VERSION = 'v1';
/** What the key is for: a ticket key never equals the token, nor a key derived for anything else. */
const KEY_LABEL = 'chorus dashboard ticket v1';
/** How long a ticket lets a socket connect (it is checked at connection only). */
export const DASHBOARD_TICKET_TTL_MS = 60_000;
/** A ticket valid further ahead than this was not made by us (or our clock is off). */
const MAX_AHEAD_MS = 10 * 60_000;

const encoder = new TextEncoder();

async function ticketKey(viewerToken: string) {
  const subtle = globalThis.crypto.subtle;
  const tokenKey = await subtle.importKey(
    'raw',
    encoder.encode(viewerToken),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const derived = await subtle.sign('HMAC', tokenKey, encoder.encode(KEY_LABEL));
  return subtle.importKey('raw', derived, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

const toBase64Url = (bytes: ArrayBuffer): string =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '=');
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A ticket valid until `now + ttlMs`. */
export async function signDashboardTicket(
  viewerToken: string,
  now: number,
  ttlMs: number = DASHBOARD_TICKET_TTL_MS,
): Promise<{ ticket: string; expiresAt: number }> {
  const expiresAt = Math.floor(now + ttlMs);
  const payload = `${VERSION}.${expiresAt}`;
  const mac = await globalThis.crypto.subtle.sign(
    'HMAC',
    await ticketKey(viewerToken),
    encoder.encode(payload),
  );
  return { ticket: `${payload}.${toBase64Url(mac)}`, expiresAt };
}

/** Why a ticket is refused, or null when it is good at `now`. */
export async function checkDashboardTicket(
  viewerToken: string,
  ticket: string,
  now: number,
): Promise<null | 'malformed' | 'forged' | 'expired'> {
  const match = /^v1\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  const mac = match ? fromBase64Url(match[2] ?? '') : undefined;
  if (!match || !mac) return 'malformed';
  const expiresAt = Number(match[1]);
  // The signature first: an attacker learns nothing about expiry handling from a forged ticket.
  const valid = await globalThis.crypto.subtle.verify(
    'HMAC',
    await ticketKey(viewerToken),
    mac,
    encoder.encode(`${VERSION}.${match[1]}`),
  );
  if (!valid) return 'forged';
  if (expiresAt <= now || expiresAt > now + MAX_AHEAD_MS) return 'expired';
  return null;
}
