'use client';

import { createContext, useCallback, useContext, useEffect, useId, useState, type ReactNode } from 'react';

/**
 * The admin token, typed by the user, kept in this tab's sessionStorage only (gone when the tab
 * closes) and sent with control actions. Read views never need it.
 */
interface AdminToken {
  token: string;
  setToken: (token: string) => void;
}

const STORAGE_KEY = 'chorus.adminToken';
const Context = createContext<AdminToken>({ token: '', setToken: () => {} });

export function AdminTokenProvider({ children }: { children: ReactNode }) {
  const [token, setState] = useState('');
  useEffect(() => setState(sessionStorage.getItem(STORAGE_KEY) ?? ''), []);
  const setToken = useCallback((next: string) => {
    setState(next);
    if (next) sessionStorage.setItem(STORAGE_KEY, next);
    else sessionStorage.removeItem(STORAGE_KEY);
  }, []);
  return <Context.Provider value={{ token, setToken }}>{children}</Context.Provider>;
}

export const useAdminToken = (): AdminToken => useContext(Context);

/** A labelled password field for the admin token (where control actions need it). */
export function AdminTokenField() {
  const { token, setToken } = useAdminToken();
  const id = useId();
  // The label names the field; the help is its description (not part of its name).
  return (
    <div className="field">
      <label htmlFor={id}>Admin token</label>
      <input
        id={id}
        type="password"
        name="admin-token"
        autoComplete="off"
        value={token}
        onChange={(e) => setToken(e.target.value)}
        placeholder="adminToken of tokens.json (npx chorus tokens)"
        aria-describedby={`${id}-help`}
      />
      <small id={`${id}-help`}>
        Needed to launch and cancel runs, drain workers and try an ensemble; kept in this tab only.
      </small>
    </div>
  );
}
