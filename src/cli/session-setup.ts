import { randomUUID } from 'node:crypto';
import { abortable } from '../abortable.js';
import type { AwsClientSettings } from '../aws/aws-call.js';
import type { AwsContext } from '../aws/aws-context.js';
import type { CredentialProvider } from '../aws/credentials.js';
import type { SsmApi } from '../aws/ssm-api.js';
import { SIGNAL_EXIT_CODES } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionFactory } from '../session/run-session.js';
import type { AwsArgs } from './network-options.js';
import { parseStreamEndpoint } from './ssmmessages-endpoint.js';

export type Signal = keyof typeof SIGNAL_EXIT_CODES;
const SIGNALS: Signal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** SIGINT, SIGTERM and SIGHUP abort the returned signal, with the signal's name as the reason. */
export function listenForSignals(log: Logger): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const handlers = SIGNALS.map((name) => {
    const handler = () => {
      if (controller.signal.aborted) return;
      log.info(`${name} received; ending the session`);
      controller.abort(name);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    stop: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** The exit code of a session a signal cut short (the reason `listenForSignals` aborted with). */
export function signalExitCode(signal: AbortSignal): number {
  return SIGNAL_EXIT_CODES[signal.reason as Signal];
}

/** Everything a session command needs from AWS before `runSession`, resolved once. */
export interface SessionSetup {
  aws: AwsContext;
  client: AwsClientSettings;
  credentials: CredentialProvider;
  ssm: SsmApi;
  /** The data channel's websocket, through the same proxy / CA as every AWS call. */
  connection: ConnectionFactory;
}

/**
 * Shared by connect, shell and forward: resolve profile, region, SSO settings and network once,
 * open the SSM API connection ahead of the SDK when its endpoint is certain (network/warm-api-agent.ts),
 * load what the command needs (`loadModules`), resolve credentials (failing clearly here, not
 * inside StartSession) while the SSM client is built, and build the websocket factory. A signal
 * cuts every step short.
 */
export async function prepareSession(
  args: AwsArgs & { login?: 'auto' | 'never' | undefined },
  log: Logger,
  signal: AbortSignal,
  options: { loadModules?: () => Promise<void> } = {},
): Promise<SessionSetup> {
  const [{ prepareAws }, { predictSsmEndpoint }, { warmApiAgents }, { openStreamHostAhead }] = await Promise.all([
    import('./network-options.js'),
    import('../aws/ssm-endpoint.js'),
    import('../network/warm-api-agent.js'),
    import('../transport/warm-socket.js'),
  ]);
  const { context: aws, network, client, endpoint } = await abortable(prepareAws(args), signal);
  // The flag is a usage error (checked up front by checkSessionArgs); the variable is the configuration's.
  const fromEnv = args['ssmmessages-endpoint'] === undefined;
  const endpointText = fromEnv ? process.env.AWS_ENDPOINT_URL_SSMMESSAGES : args['ssmmessages-endpoint'];
  const ssmmessagesEndpoint = endpointText
    ? fromEnv
      ? parseStreamEndpoint(endpointText, 'AWS_ENDPOINT_URL_SSMMESSAGES', 'config')
      : parseStreamEndpoint(endpointText)
    : undefined;
  const apiEndpoint = network.settings.proxy ? undefined : predictSsmEndpoint(aws, endpoint, process.env);
  const warm = apiEndpoint ? warmApiAgents(apiEndpoint, network.settings.ca?.certificates) : undefined;
  if (warm) log.debug(`connecting to the SSM API at ${apiEndpoint!.host} ahead of StartSession`);
  // The data channel's host too, when it is certain (the override, or AWS's own endpoints), so
  // its TCP and TLS are done by the time StartSession answers; never through a proxy.
  const streamAhead = openStreamHostAhead({
    region: aws.region,
    override: ssmmessagesEndpoint,
    // The StreamUrl's host follows the SSM endpoint: certain for AWS's own, or with the override.
    hostCertain: ssmmessagesEndpoint !== undefined || !(endpoint || process.env.AWS_ENDPOINT_URL_SSM || process.env.AWS_ENDPOINT_URL),
    proxy: network.settings.proxy !== undefined,
    ca: network.settings.ca?.certificates,
  });
  try {
    await options.loadModules?.();
    const [{ createCredentialProvider }, { createSsmApi }, { agentFor }, { websocketConnection }] = await Promise.all([
      import('../aws/credentials.js'),
      import('../aws/ssm-api.js'),
      import('../network/network-agents.js'),
      import('../session/websocket-connection.js'),
    ]);
    const credentials = await abortable(
      createCredentialProvider(aws, { login: args.login ?? 'auto', log, interactive: process.stderr.isTTY === true, client }),
      signal,
    );
    const ssmClient = warm ? { ...client, agents: warm.agents } : client;
    const [, created] = await abortable(Promise.all([credentials({ signal }), createSsmApi({ context: aws, credentials, endpoint, client: ssmClient })]), signal);
    const ssm: SsmApi = warm
      ? {
          ...created,
          // The warm connection serves the first call or none: after it, nothing is left to keep.
          startSession: (request, call) => created.startSession(request, call).finally(() => warm.discard()),
        }
      : created;
    const connection = websocketConnection({
      region: aws.region,
      credentials: () => credentials(),
      clientId: randomUUID(),
      agentFor: (url) => agentFor(network.agents, url),
      ...(streamAhead ? { openedAhead: streamAhead } : {}),
      ssmmessagesEndpoint,
    });
    return { aws, client, credentials, ssm, connection };
  } catch (error) {
    warm?.discard();
    streamAhead?.discard();
    throw error;
  }
}
