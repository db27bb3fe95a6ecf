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
        // A ticket from this dashboard's server: the viewer token never reaches the browser. One
        // that cannot be had is said in the console; the socket then goes without (and is refused).
        {
          auth: () =>
            fetchSocketTicket().catch((error: unknown) => {
              console.warn(`no socket ticket: ${error instanceof Error ? error.message : String(error)}`);
              return {};
            }),
        },
      ),
    [coordinatorUrl, runId],
  );

  return state;
}
