import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { StreamAccess } from '../transport/data-channel-connection.js';
import { SsmProxyError } from '../errors.js';
import { requestHandlerOptions, type NetworkAgents } from '../network/network-agents.js';
import { describeAwsError } from './aws-errors.js';

export interface StartedSession extends StreamAccess {
  sessionId: string;
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

/** Per call: `signal` abandons the call (a signal from the user, a deadline). */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface SsmApiOptions {
  region: string;
  profile: string | undefined;
  /** Who signs, for AccessDenied messages (AwsTarget.identity). */
  identity?: string;
  credentials: AwsCredentialIdentityProvider;
  /** --endpoint-url; AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL are read by the SDK itself. */
  endpoint?: string;
  /** Proxy / CA agents (network-agents.ts); undefined = direct, built-in roots. */
  agents?: NetworkAgents | undefined;
}

/** StartSession / ResumeSession / TerminateSession through @aws-sdk/client-ssm (loaded lazily). */
export async function createSsmApi(options: SsmApiOptions): Promise<SsmApi> {
  const { SSMClient, StartSessionCommand, ResumeSessionCommand, TerminateSessionCommand } = await import('@aws-sdk/client-ssm');
  const client = new SSMClient({
    region: options.region,
    credentials: options.credentials,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    requestHandler: requestHandlerOptions(options.agents),
    maxAttempts: 3,
  });
  const context = (action: string) => ({ action, profile: options.profile, identity: options.identity });

  return {
    async startSession({ target, documentName, parameters }, options) {
      let output;
      try {
        output = await client.send(
          new StartSessionCommand({ Target: target, DocumentName: documentName, Parameters: parameters }),
          { abortSignal: options?.signal },
        );
      } catch (error) {
        throw describeAwsError(error, context(`ssm:StartSession on ${target}`));
      }
      if (!output.SessionId || !output.TokenValue || !output.StreamUrl) {
        throw new SsmProxyError('protocol', 'StartSession answered without SessionId, TokenValue or StreamUrl');
      }
      return { sessionId: output.SessionId, tokenValue: output.TokenValue, streamUrl: output.StreamUrl };
    },

    async resumeSession(sessionId, options) {
      let output;
      try {
        output = await client.send(new ResumeSessionCommand({ SessionId: sessionId }), { abortSignal: options?.signal });
      } catch (error) {
        throw describeAwsError(error, context(`ssm:ResumeSession of ${sessionId}`));
      }
      // No token: the session timed out or was terminated (§11.2).
      if (!output.TokenValue) return undefined;
      return { tokenValue: output.TokenValue, streamUrl: output.StreamUrl ?? '' };
    },

    async terminateSession(sessionId, options) {
      try {
        await client.send(new TerminateSessionCommand({ SessionId: sessionId }), { abortSignal: options?.signal });
      } catch (error) {
        throw describeAwsError(error, context(`ssm:TerminateSession of ${sessionId}`));
      }
    },
  };
}
