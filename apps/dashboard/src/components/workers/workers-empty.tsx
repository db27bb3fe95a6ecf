import styles from './workers.module.css';

/** How to start a worker when none has ever connected. */
export function WorkersEmpty({ coordinatorUrl }: { coordinatorUrl: string }) {
  return (
    <section
      className={`notice ${styles.empty}`}
      data-testid="workers-empty"
      aria-labelledby="workers-empty-title"
    >
      <h2 id="workers-empty-title">No worker has connected yet</h2>
      <p>Start one per GPU (or per few CPU cores) on any machine that reaches the coordinator:</p>
      <pre>npx chorus worker --coordinator {coordinatorUrl} --token &lt;worker token&gt;</pre>
      <p>
        The worker token is <code>workerToken</code> in the coordinator&apos;s <code>tokens.json</code> (in
        its data directory, <code>.chorus</code> by default) or the <code>CHORUS_WORKER_TOKEN</code> it was
        started with. On a machine with GPUs, <code>--backend webgpu --gpus all</code> starts and supervises
        one worker per GPU.
      </p>
    </section>
  );
}
