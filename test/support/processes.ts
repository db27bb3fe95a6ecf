import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Real `chorus` processes for end-to-end tests: spawned from bin/chorus.mjs, their stdout and
 * stderr kept line by line (to wait on and to show when a test fails), and every one of them
 * killed by `killAll()` whatever happened in the test.
 */

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/chorus.mjs', import.meta.url));

/** Lines kept per stream (the tail; a run logs a few hundred). */
const MAX_LINES = 20_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ChorusProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  /** Settles once the process has exited. */
  readonly exited: Promise<ExitStatus>;
  private exitStatus: ExitStatus | undefined;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly label: string,
    args: readonly string[],
    env: Record<string, string>,
  ) {
    this.child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.collect(this.child.stdout, this.stdout);
    this.collect(this.child.stderr, this.stderr);
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        this.notify();
        resolve(this.exitStatus);
      });
      this.child.once('error', (error) => {
        this.stderr.push(`spawn error: ${error.message}`);
        this.exitStatus = { code: -1, signal: null };
        this.notify();
        resolve(this.exitStatus);
      });
    });
    registry.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The process's peak resident set so far (Linux: VmHWM of /proc/<pid>/status), in bytes. */
  peakRssBytes(): number | undefined {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) * 1024;
    } catch {
      return undefined;
    }
  }

  get running(): boolean {
    return this.exitStatus === undefined;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILL (if still running) and wait for the exit. */
  async kill(): Promise<ExitStatus> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** stdout lines that are JSON objects (pino logs). */
  jsonLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.stdout) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line cut short by a kill
      }
    }
    return out;
  }

  /**
   * The first line of `stream` matching `pattern`, waiting for it up to `timeoutMs`; fails early,
   * with the process's output, if the process exits first.
   */
  waitForLine(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const lines = stream === 'stdout' ? this.stdout : this.stderr;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of lines) {
          const match = line.match(pattern);
          if (match) {
            finish();
            resolve(match);
            return true;
          }
        }
        if (!this.running) {
          finish();
          reject(
            new Error(
              `${this.label} exited (${JSON.stringify(this.exitStatus)}) before printing ${pattern} on ${stream}\n${this.tail()}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `${this.label} did not print ${pattern} on ${stream} within ${timeoutMs} ms\n${this.tail()}`,
          ),
        );
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      if (!check()) this.listeners.add(listener);
    });
  }

  /** The last lines of both streams, for failure messages. */
  tail(lines = 40): string {
    const cut = (arr: string[]) => arr.slice(-lines).map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l));
    return [
      `----- ${this.label} (pid ${this.pid}) stderr, last ${lines} lines -----`,
      ...cut(this.stderr),
      `----- ${this.label} stdout, last ${lines} lines -----`,
      ...cut(this.stdout),
    ].join('\n');
  }

  private collect(stream: NodeJS.ReadableStream | null, lines: string[]): void {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const part of parts) lines.push(part);
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      this.notify();
    });
    stream.on('end', () => {
      if (partial) lines.push(partial);
      partial = '';
      this.notify();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

const registry = new Set<ChorusProcess>();

/** SIGKILLs every process this file started and waits for them; forgets the exited ones. */
export async function killAll(): Promise<void> {
  await Promise.all([...registry].map((p) => p.kill()));
  registry.clear();
}

/** The output of every process started since the last killAll(), for a failed test. */
export function dumpProcessOutput(): string {
  return [...registry].map((p) => p.tail(60)).join('\n');
}

/**
 * The test runner's environment minus what would change the children's behaviour: the Chorus
 * variables are set explicitly per process, and NODE_OPTIONS from vitest must not leak in.
 */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('CHORUS_') || key === 'DATABASE_URL' || key === 'LOG_LEVEL') continue;
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key === 'TEST') continue;
    env[key] = value;
  }
  return env;
}
