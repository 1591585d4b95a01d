/** Talks to the running daemon's local API (127.0.0.1, token from the data dir). */
import { readFileSync } from 'node:fs';
import { dataPaths, readDaemonInfo } from '../daemon/paths.ts';
import { isMeshErrorCode, MeshError } from '../errors.ts';

function notRunning(dir: string): MeshError {
  return new MeshError('NOT_RUNNING', `the node is not running — start it with \`mesh start\` (data dir ${dir})`);
}

/** A client of one daemon's local API. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly dataDir: string,
  ) {}

  /** Finds the daemon of a data dir; throws NOT_RUNNING with what to do. */
  static forDataDir(dir: string): ApiClient {
    const info = readDaemonInfo(dir);
    if (!info) throw notRunning(dir);
    let token: string;
    try {
      token = readFileSync(dataPaths(dir).token, 'utf8').trim();
    } catch {
      throw notRunning(dir);
    }
    return new ApiClient(`http://127.0.0.1:${info.apiPort}`, token, dir);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch {
      throw notRunning(this.dataDir);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new MeshError('BAD_RESPONSE', `the daemon answered ${res.status} without JSON`);
    }
    if (!res.ok) {
      const e = json as { error?: string; message?: string };
      // A code this CLI does not know (a newer daemon) is reported as INTERNAL, with the daemon's message.
      const code = isMeshErrorCode(e.error) ? e.error : 'INTERNAL';
      throw new MeshError(code, e.message ?? `the daemon answered ${res.status}`);
    }
    return json as T;
  }

  /** GET an API path. */
  get<T = Record<string, unknown>>(path: string): Promise<T> {
    return this.#call('GET', path);
  }

  /** POST JSON to an API path. */
  post<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.#call('POST', path, body);
  }

  /** Follows the SSE stream until the daemon stops; calls `on` per event. */
  async events(on: (event: string, data: unknown) => void): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/events`, { headers: { authorization: `Bearer ${this.token}` } });
    } catch {
      throw notRunning(this.dataDir);
    }
    if (!res.ok || !res.body) throw new MeshError('BAD_RESPONSE', `the daemon answered ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        let data = '';
        for (const l of block.split('\n')) {
          if (l.startsWith('event: ')) event = l.slice(7);
          else if (l.startsWith('data: ')) data += l.slice(6);
        }
        if (data) on(event, JSON.parse(data));
        i = buf.indexOf('\n\n');
      }
    }
  }
}
