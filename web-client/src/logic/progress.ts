// A running generation as the Create screen shows it, from the events of `generationUpdated`.

export type Status = 'PENDING' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface Update {
  status: Status;
  progress: number;
  queuePosition: number | null;
  eta: number | null;
  error: string | null;
}

export interface ProgressView {
  percent: number;
  stage: 'waiting' | 'queued' | 'drawing' | 'done' | 'failed' | 'cancelled';
  queuePosition: number | null;
  eta: number | null;
  error: string | null;
  finished: boolean;
}

const STAGE: Record<Status, ProgressView['stage']> = {
  PENDING: 'waiting',
  QUEUED: 'queued',
  RUNNING: 'drawing',
  COMPLETED: 'done',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

/** The bar never goes back (events can arrive out of order), and a finished job stays finished. */
export function advance(previous: ProgressView | null, update: Update): ProgressView {
  if (previous?.finished) return previous;
  const finished = update.status === 'COMPLETED' || update.status === 'FAILED' || update.status === 'CANCELLED';
  const percent = update.status === 'COMPLETED' ? 100 : Math.max(previous?.percent ?? 0, Math.min(99, update.progress));
  return {
    percent,
    stage: STAGE[update.status],
    queuePosition: update.status === 'QUEUED' ? update.queuePosition : null,
    eta: finished ? null : update.eta,
    error: update.error,
    finished,
  };
}
