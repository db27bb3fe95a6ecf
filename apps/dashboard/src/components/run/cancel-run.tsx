'use client';

import { useState } from 'react';
import { AdminTokenField, useAdminToken } from '../admin-token';
import { ENTER_ADMIN_TOKEN } from '../../lib/admin-token-words';
import { cancelRun } from '../../server/coordinator-actions';
import styles from './run.module.css';

/** "Cancel run" (admin token needed; asks first); the coordinator's refusal is shown inline. */
export function CancelRun({ runId, onCancelled }: { runId: string; onCancelled: () => void }) {
  const { token } = useAdminToken();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const cancel = async () => {
    if (busy) return;
    setError(null);
    if (!token.trim()) {
      setError(ENTER_ADMIN_TOKEN);
      return;
    }
    if (!window.confirm('Cancel this run? Its workers stop training its members; this cannot be undone.'))
      return;
    setBusy(true);
    try {
      const result = await cancelRun(token, runId);
      if (result.ok) onCancelled();
      else setError(result.message);
    } catch (e) {
      setError(`The dashboard server did not answer (${(e as Error).message}). Retry.`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className={styles.cancel}>
      <AdminTokenField />
      <button type="button" className="danger" onClick={cancel} aria-disabled={busy || undefined}>
        {busy ? 'Cancelling…' : 'Cancel run'}
      </button>
      {error && (
        <p role="alert" className="error-text" style={{ flexBasis: '100%', margin: 0 }}>
          {error}
        </p>
      )}
    </div>
  );
}
