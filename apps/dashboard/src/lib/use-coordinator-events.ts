'use client';

import { useEffect, useRef, useState } from 'react';
import {
  fetchSocketTicket,
  subscribeCoordinatorEvents,
  type ConnectionState,
  type CoordinatorEventHandlers,
} from './coordinator-events';

export type { ConnectionState, CoordinatorEventHandlers };

/** React binding of subscribeCoordinatorEvents: the latest handlers, and the connection state. */
export function useCoordinatorEvents(
  coordinatorUrl: string,
  runId: string | null,
  handlers: Omit<CoordinatorEventHandlers, 'onState'>,
): ConnectionState {
  const [state, setState] = useState<ConnectionState>('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;

  useEffect(
    () =>
      subscribeCoordinatorEvents(
        coordinatorUrl,
        runId,
        () => ({
          // What does not match the protocol is ignored, and said in the browser's console.
          onInvalid: (reason) => console.warn(`ignored a coordinator notification: ${reason}`),
          ...latest.current,
          onState: setState,
        }),
        // A ticket from this dashboard's server: the viewer token never reaches the browser.
        { auth: () => fetchSocketTicket() },
      ),
    [coordinatorUrl, runId],
  );

  return state;
}
