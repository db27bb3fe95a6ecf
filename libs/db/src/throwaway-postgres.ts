import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningDatabase } from './embedded/embedded-postgres';

const run = promisify(execFile);

export interface ThrowawayPostgresOptions {
  /** Directory with initdb and pg_ctl; default: the newest /usr/lib/postgresql/<version>/bin, else `pg_config --bindir`. */
  binDir?: string;
  /** Parent of the temporary directory (default: the OS temp dir). */
  tmpDir?: string;
}

export interface ThrowawayPostgres extends RunningDatabase {
  port: number;
  /** The temporary directory (data, socket, log); removed by close(). */
  dir: string;
}

/**
 * Starts a private PostgreSQL server from the installed binaries (Debian's `postgresql` package):
 * initdb into a fresh temporary directory, then pg_ctl start on a free 127.0.0.1 port with trust
 * auth and durability off (it is for tests). initdb refuses to run as root, so under root both run
 * as the `postgres` user via runuser. close() stops the server and deletes the directory; a process
 * that exits without close() still stops it.
 */
export async function startThrowawayPostgres(
  options: ThrowawayPostgresOptions = {},
): Promise<ThrowawayPostgres> {
  const binDir = options.binDir ?? findPostgresBinDir();
  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'chorus-pg-'));
  const dataDir = join(dir, 'data');
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const command = (tool: string, args: string[]): [string, string[]] =>
    asPostgres
      ? ['runuser', ['-u', 'postgres', '--', join(binDir, tool), ...args]]
      : [join(binDir, tool), args];
  const exec = async (tool: string, args: string[]) => {
    const [file, argv] = command(tool, args);
    try {
      await run(file, argv, { cwd: dir, timeout: 60_000 });
    } catch (error) {
      const e = error as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${tool} failed: ${(e.stderr || e.stdout || e.message).trim()}`, { cause: error });
    }
  };

  const stopSync = () => {
    const [file, argv] = command('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    try {
      execFileSync(file, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await exec('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await findFreePort();
      const settings = [
        `-p ${port}`,
        `-k '${dir}'`,
        "-c listen_addresses='127.0.0.1'",
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=100',
      ].join(' ');
      try {
        await exec('pg_ctl', [
          '-D',
          dataDir,
          '-l',
          join(dir, 'postgres.log'),
          '-w',
          '-t',
          '60',
          '-o',
          settings,
          'start',
        ]);
        break;
      } catch (error) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= 3) throw new Error(`${(error as Error).message}\n${readLog(dir)}`, { cause: error });
      }
    }
    process.once('exit', stopSync);
    let closed: Promise<void> | null = null;
    return {
      port,
      dir,
      connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      close() {
        closed ??= (async () => {
          process.off('exit', stopSync);
          await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']).catch(() => {});
          rmSync(dir, { recursive: true, force: true });
        })();
        return closed;
      },
    };
  } catch (error) {
    stopSync();
    throw error;
  }
}

/** The bin directory of the newest PostgreSQL under /usr/lib/postgresql, else `pg_config --bindir`. */
export function findPostgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(bindir, 'initdb'))) return bindir;
  } catch {
    // no pg_config on PATH
  }
  throw new Error(
    'no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and `pg_config --bindir`): ' +
      'install them (Debian: apt-get install postgresql) or point DATABASE_URL at a server',
  );
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'postgres.log'), 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
