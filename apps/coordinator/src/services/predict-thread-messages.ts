import type { PredictAnswer, RunExportSource } from '@chorus/protocol';

/**
 * The messages between the coordinator and its predict thread (predict-thread.ts). Both ends are
 * this app, started from the same source, so these are TypeScript types, not a wire contract.
 */
export type PredictThreadRequest =
  | { id: number; kind: 'predict'; dir: string; body: unknown }
  | {
      id: number;
      kind: 'write-export';
      dir: string;
      source: RunExportSource;
      checkpoints: Uint8Array[];
    };

export type PredictThreadReply =
  | { kind: 'ready'; backend: string }
  | { kind: 'answer'; id: number; answer: PredictAnswer }
  | { kind: 'written'; id: number }
  /** `dir` holds no readable export: the coordinator writes it (write-export) and asks again. */
  | { kind: 'missing'; id: number }
  | { kind: 'failed'; id: number; code: string; message: string };
