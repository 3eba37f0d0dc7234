import { GatewayApi } from '../simulators/load/gateway-api.ts';

/** A small client of the citygate HTTP API for the engineer CLI. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The last answer body, kept while `--json` is asked (bin/json-output.ts prints it). */
export const lastAnswer: { keep: boolean; body?: unknown } = { keep: false };

/** The API for the CLI: an error answer becomes an ApiError carrying the server's message. */
export class ApiClient {
  readonly #api: GatewayApi;

  constructor(
    readonly baseUrl: string,
    token: string,
  ) {
    this.#api = new GatewayApi(baseUrl.replace(/\/$/, ''), token);
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#api.call(method, path, body).catch((err: Error) => {
      throw new ApiError(
        0,
        'CLI_ERR_UNREACHABLE',
        `cannot reach ${this.baseUrl}: ${err.cause ?? err.message}`,
      );
    });
    if (res.status >= 400)
      throw new ApiError(res.status, res.body?.code ?? 'HTTP', res.body?.message ?? String(res.status));
    if (lastAnswer.keep) lastAnswer.body = res.body;
    return res.body as T;
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
  }

  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }
}

/** `level=40 on=true` or a JSON object, to command params. */
export function parseParams(args: readonly string[]): Record<string, unknown> {
  if (args.length === 1 && args[0].trim().startsWith('{')) return JSON.parse(args[0]);
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 1) throw new Error(`param "${arg}" is not key=value`);
    const raw = arg.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {}
    out[arg.slice(0, eq)] = value;
  }
  return out;
}
