'use client';

import { useState } from 'react';
import { useAdminToken } from '../admin-token';
import { ADMIN_TOKEN_SOURCE } from '../../lib/admin-token-words';
import { drainWorker } from '../../server/coordinator-actions';

/**
 * "Drain" (admin token, from the field above the table; asks first): the coordinator tells the
 * worker to hand its members back at their next step and exit. Its answer or refusal shows inline.
 */
export function DrainWorker({ workerId, name }: { workerId: string; name: string }) {
  const { token } = useAdminToken();
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<{ error: boolean; text: string } | null>(null);

  const drain = async () => {
    if (busy) return;
    setNote(null);
    if (!token.trim()) {
      setNote({ error: true, text: `Enter the admin token above first: ${ADMIN_TOKEN_SOURCE}.` });
      return;
    }
    if (!window.confirm(`Drain ${name}? It hands its members to other workers, then exits.`)) return;
    setBusy(true);
    try {
      const result = await drainWorker(token, workerId);
      setNote(
        result.ok
          ? { error: false, text: `Draining: ${result.members} member(s) being handed back.` }
          : { error: true, text: result.message },
      );
    } catch (e) {
      setNote({ error: true, text: `The dashboard server did not answer (${(e as Error).message}). Retry.` });
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        onClick={drain}
        aria-disabled={busy || undefined}
        data-testid={`drain-${workerId}`}
        aria-label={`Drain ${name}`}
      >
        {busy ? 'Draining…' : 'Drain'}
      </button>
      {note && (
        <small role={note.error ? 'alert' : 'status'} className={note.error ? 'error-text' : 'muted'}>
          <br />
          {note.text}
        </small>
      )}
    </>
  );
}
