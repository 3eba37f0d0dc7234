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

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError(
        0,
        'CLI_ERR_UNREACHABLE',
        `cannot reach ${this.baseUrl}: ${(err as Error).cause ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, data?.code ?? 'HTTP', data?.message ?? res.statusText);
    return data as T;
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, body ?? {});
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
