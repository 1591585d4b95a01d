/** Talks to the running daemon's local API (127.0.0.1, token from the data dir) through the API contract. */
import { readFileSync } from 'node:fs';
import {
  API_EVENT_NAMES,
  API_EVENTS_ROUTE,
  type ApiErrorBody,
  type ApiEvent,
  type ApiInput,
  type ApiOutput,
  type ApiRouteName,
  apiRequest,
} from '../api/contract.ts';
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

  async #fetch<T>(method: string, url: string, body?: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body,
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
      const e = json as Partial<ApiErrorBody>;
      // A code this CLI does not know (a newer daemon) is reported as INTERNAL, with the daemon's message.
      const code = isMeshErrorCode(e.error) ? e.error : 'INTERNAL';
      throw new MeshError(code, e.message ?? `the daemon answered ${res.status}`);
    }
    return json as T;
  }

  /** Calls a route of the contract by name; throws MeshError with the daemon's code on failure. */
  call<K extends ApiRouteName>(
    name: K,
    ...input: undefined extends ApiInput<K> ? [input?: ApiInput<K>] : [input: ApiInput<K>]
  ): Promise<ApiOutput<K>> {
    const r = apiRequest(name, ...input);
    return this.#fetch(r.method, r.url, r.body);
  }

  /** Follows the event stream until the daemon stops; calls `on` per contract event (others are skipped). */
  async events(on: (e: ApiEvent) => void): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + API_EVENTS_ROUTE.path, { headers: { authorization: `Bearer ${this.token}` } });
    } catch {
      throw notRunning(this.dataDir);
    }
    if (!res.ok || !res.body) throw new MeshError('BAD_RESPONSE', `the daemon answered ${res.status}`);
    const known = new Set<string>(API_EVENT_NAMES);
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
        if (data && known.has(event)) on({ event, data: JSON.parse(data) } as ApiEvent);
        i = buf.indexOf('\n\n');
      }
    }
  }
}
