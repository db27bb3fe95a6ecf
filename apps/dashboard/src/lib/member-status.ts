/**
 * A member's status in a user's words (the stored MemberStatus is the scheduler's): a held member
 * is "starting on <worker>" until its first step, then "training on <worker>"; in a cancelled run
 * every member that did not finish reads "cancelled" (the coordinator returns them to `pending`).
 */
export interface MemberStatusLabel {
  /** The badge's words, without the worker's name. */
  text: string;
  /** The CSS status class (`status-…` in globals.css). */
  tone: 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
  /** Whether the worker's name follows the text. */
  onWorker: boolean;
}

export function memberStatusLabel(
  member: { status: string; step: number; workerId: string | null },
  runStatus: string,
): MemberStatusLabel {
  if (member.status === 'completed') return { text: 'completed', tone: 'completed', onWorker: false };
  if (member.status === 'failed') return { text: 'failed', tone: 'failed', onWorker: false };
  if (runStatus === 'cancelled') return { text: 'cancelled', tone: 'cancelled', onWorker: false };
  if ((member.status === 'leased' || member.status === 'running') && member.workerId !== null) {
    const started = member.status === 'running' || member.step > 0;
    return { text: started ? 'training on' : 'starting on', tone: 'running', onWorker: true };
  }
  return { text: 'waiting for a worker', tone: 'pending', onWorker: false };
}
