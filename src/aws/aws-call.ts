import { httpTimeouts, requestHandlerOptions, type HttpTimeouts, type NetworkAgents } from '../network/network-agents.js';

/** What every SDK client of a command is built with: the network (proxy, CA) and the timeouts. */
export interface AwsClientSettings {
  agents: NetworkAgents | undefined;
  timeouts: HttpTimeouts;
}

export function defaultClientSettings(agents?: NetworkAgents): AwsClientSettings {
  return { agents, timeouts: httpTimeouts() };
}

/** The constructor options every client shares (region and credentials are the caller's). */
export function clientOptions(settings: AwsClientSettings, maxAttempts = 3) {
  return { requestHandler: requestHandlerOptions(settings.agents, settings.timeouts), maxAttempts };
}

/** The endpoint a failed request went to (`https://host[:port]`), set by `labelEndpoints`. */
export const ENDPOINT_OF_ERROR = Symbol('ssm-proxy endpoint');

/** Any SDK client, as far as ssm-proxy uses it. */
interface SdkClient {
  middlewareStack: { add(middleware: unknown, options: { step: 'build'; name: string; override?: boolean }): void };
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Tags every error a client throws with the endpoint it was talking to (known once the request
 * is built, whatever resolved it: --endpoint-url, AWS_ENDPOINT_URL_*, the region's default), so
 * the one-line error can name it.
 */
export function labelEndpoints<T extends SdkClient>(client: T): T {
  client.middlewareStack.add(
    (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      try {
        return await next(args);
      } catch (error) {
        const request = args.request as { protocol?: string; hostname?: string; port?: number } | undefined;
        if (request?.hostname && error !== null && typeof error === 'object' && !(ENDPOINT_OF_ERROR in error)) {
          const port = request.port ? `:${request.port}` : '';
          Object.defineProperty(error, ENDPOINT_OF_ERROR, { value: `${request.protocol ?? 'https:'}//${request.hostname}${port}`, enumerable: false });
        }
        throw error;
      }
    },
    { step: 'build', name: 'ssmProxyEndpointLabel', override: true },
  );
  return client;
}

export function endpointOfError(error: unknown): string | undefined {
  return error !== null && typeof error === 'object' && ENDPOINT_OF_ERROR in error ? String((error as Record<symbol, unknown>)[ENDPOINT_OF_ERROR]) : undefined;
}

export function callDeadlineMs(timeouts: HttpTimeouts): number {
  return 2 * timeouts.requestMs;
}

/** Thrown when a call, retries included, outlives its deadline. Mapped to a network error naming the endpoint. */
export class CallDeadlineError extends Error {
  constructor(readonly deadlineMs: number, cause: unknown) {
    super(`no answer within ${deadlineMs / 1000} s`, { cause });
    this.name = 'TimeoutError';
    const endpoint = endpointOfError(cause);
    if (endpoint) Object.defineProperty(this, ENDPOINT_OF_ERROR, { value: endpoint, enumerable: false });
  }
}

/**
 * `client.send` with a deadline over the whole call — twice the request timeout, every retry of a
 * silent endpoint included (fast retries of a 503 still fit) — and the caller's AbortSignal (a
 * signal ends the wait at once; the caller's reason is rethrown).
 */
export async function sendWithDeadline<T>(
  client: SdkClient,
  command: unknown,
  options: { timeouts: HttpTimeouts; signal?: AbortSignal | undefined },
): Promise<T> {
  const deadlineMs = callDeadlineMs(options.timeouts) - 1;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no answer within ${deadlineMs} ms`));
  }, deadlineMs);
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return (await client.send(command, { abortSignal: controller.signal })) as T;
  } catch (error) {
    if (timedOut) throw new CallDeadlineError(deadlineMs + 1, error);
    if (options.signal?.aborted && options.signal.reason !== undefined) throw options.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
