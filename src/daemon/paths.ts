/**
 * Files in a node's data dir (DESIGN.md §7): the SQLite store, the local API token (0600), the
 * node's self-signed TLS certificate (public; its key is the identity key in the store) and the
 * running daemon's description (pid, ports) that CLI commands read to find it.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Resolves the data dir: --data-dir, else $MESH_DATA_DIR, else ~/.mesh. */
export function resolveDataDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env.MESH_DATA_DIR ?? join(homedir(), '.mesh'));
}

/** Paths of the files in a data dir. */
export function dataPaths(dir: string): { db: string; token: string; daemon: string; cert: string } {
  return {
    db: join(dir, 'mesh.db'),
    token: join(dir, 'api-token'),
    daemon: join(dir, 'daemon.json'),
    cert: join(dir, 'tls-cert.pem'),
  };
}

/** Creates the data dir with mode 0700 if missing. */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Reads the local API token, creating it (mode 0600) if missing. */
export function loadOrCreateToken(dir: string): string {
  const p = dataPaths(dir).token;
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(p, `${token}\n`, { mode: 0o600 });
  chmodSync(p, 0o600);
  return token;
}

/** What a running daemon writes about itself. */
export interface DaemonInfo {
  pid: number;
  uuid: string;
  apiPort: number;
  listen: string[];
  startedAt: number;
}

/** Writes daemon.json atomically (mode 0600). */
export function writeDaemonInfo(dir: string, info: DaemonInfo): void {
  const p = dataPaths(dir).daemon;
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  renameSync(tmp, p);
}

/** Reads daemon.json if the daemon it describes is still alive. */
export function readDaemonInfo(dir: string): DaemonInfo | null {
  const p = dataPaths(dir).daemon;
  if (!existsSync(p)) return null;
  try {
    const info = JSON.parse(readFileSync(p, 'utf8')) as DaemonInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

/** Removes daemon.json (on stop). */
export function removeDaemonInfo(dir: string): void {
  rmSync(dataPaths(dir).daemon, { force: true });
}
