import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { StreamAccess } from '../transport/data-channel-connection.js';
import { SsmProxyError } from '../errors.js';
import { clientOptions, labelEndpoints, sendWithDeadline, type AwsClientSettings } from './aws-call.js';
import { describeSigner, ssoOf, type AwsContext } from './aws-context.js';
import { describeAwsError } from './aws-errors.js';
import { loadCommonJs } from './commonjs-package.js';

export interface StartedSession extends StreamAccess {
  sessionId: string;
}

/** Every call takes an optional AbortSignal: a signal ends the wait at once (the engine's phases). */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface SsmApi {
  startSession(
    request: { target: string; documentName?: string | undefined; parameters?: Record<string, string[]> | undefined },
    options?: CallOptions,
  ): Promise<StartedSession>;
  /** A fresh token (and URL) for a live session, or undefined when the service says it is over. */
  resumeSession(sessionId: string, options?: CallOptions): Promise<StreamAccess | undefined>;
  terminateSession(sessionId: string, options?: CallOptions): Promise<void>;
}

export interface SsmApiOptions {
  context: AwsContext;
  credentials: AwsCredentialIdentityProvider;
  /** --endpoint-url (checked); AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL are read by the SDK itself. */
  endpoint?: string | undefined;
  /** Proxy / CA agents and timeouts, shared by every client of the command. */
  client: AwsClientSettings;
}

/** The SSM client package (the SDK's biggest), loaded on first use; also in connect's module list. */
export function loadSsmClient() {
  return loadCommonJs('@aws-sdk/client-ssm', () => import('@aws-sdk/client-ssm'));
}

/** StartSession / ResumeSession / TerminateSession through @aws-sdk/client-ssm (loaded lazily). */
export async function createSsmApi(options: SsmApiOptions): Promise<SsmApi> {
  const { SSMClient, StartSessionCommand, ResumeSessionCommand, TerminateSessionCommand } = await loadSsmClient();
  const client = labelEndpoints(
    new SSMClient({
      region: options.context.region,
      credentials: options.credentials,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...clientOptions(options.client, 3),
    }),
  );
  const { timeouts } = options.client;
  const who = describeSigner(options.context);
  const sso = ssoOf(options.context);
  const send = async <T>(command: unknown, action: string, call: CallOptions | undefined): Promise<T> => {
    try {
      return await sendWithDeadline<T>(client, command, { timeouts, signal: call?.signal });
    } catch (error) {
      if (call?.signal?.aborted) throw error;
      throw describeAwsError(error, { action, service: 'SSM', who, sso, timeouts });
    }
  };

  return {
    async startSession({ target, documentName, parameters }, call) {
      const output = await send<{ SessionId?: string; TokenValue?: string; StreamUrl?: string }>(
        new StartSessionCommand({ Target: target, DocumentName: documentName, Parameters: parameters }),
        `ssm:StartSession on ${target}`,
        call,
      );
      if (!output.SessionId || !output.TokenValue || !output.StreamUrl) {
        throw new SsmProxyError('protocol', 'StartSession answered without SessionId, TokenValue or StreamUrl');
      }
      return { sessionId: output.SessionId, tokenValue: output.TokenValue, streamUrl: output.StreamUrl };
    },

    async resumeSession(sessionId, call) {
      const output = await send<{ TokenValue?: string; StreamUrl?: string }>(new ResumeSessionCommand({ SessionId: sessionId }), `ssm:ResumeSession of ${sessionId}`, call);
      // No token: the session timed out or was terminated (docs/protocol.md §11.2).
      if (!output.TokenValue) return undefined;
      return { tokenValue: output.TokenValue, streamUrl: output.StreamUrl ?? '' };
    },

    async terminateSession(sessionId, call) {
      await send(new TerminateSessionCommand({ SessionId: sessionId }), `ssm:TerminateSession of ${sessionId}`, call);
    },
  };
}
