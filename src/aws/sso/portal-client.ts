/**
 * The SSO portal's GetRoleCredentials: role credentials for an SSO access token. ssm-proxy makes
 * this call itself, with the command's proxy, CA bundle and timeouts, because it already holds
 * the token (ensure-token.ts) and the settings (aws-context.ts): the SDK's fromSSO would read the
 * config and the token cache again and swallow why a call failed. The client is the one the
 * SDK's fromSSO uses (@aws-sdk/nested-clients/sso), so AWS_ENDPOINT_URL_SSO works the same.
 */
import type { AwsCredentialIdentity } from '@smithy/types';
import { clientOptions, labelEndpoints, sendWithDeadline, type AwsClientSettings } from '../aws-call.js';
import { loadCommonJs } from '../commonjs-package.js';

export interface RoleCredentials extends AwsCredentialIdentity {
  expiration: Date;
}

export interface PortalApi {
  getRoleCredentials(request: { accountId: string; roleName: string; accessToken: string }, options?: { signal?: AbortSignal | undefined }): Promise<RoleCredentials>;
}

/** The SSO portal client package (the one the SDK's fromSSO uses). */
export function loadSsoClient() {
  return loadCommonJs('@aws-sdk/nested-clients/sso', () => import('@aws-sdk/nested-clients/sso'));
}

export async function createPortalApi(region: string, settings: AwsClientSettings): Promise<PortalApi> {
  const { SSOClient, GetRoleCredentialsCommand } = await loadSsoClient();
  // No credentials: GetRoleCredentials is authorised by the bearer token in the request.
  const client = labelEndpoints(new SSOClient({ region, ...clientOptions(settings, 3) }));
  return {
    async getRoleCredentials({ accountId, roleName, accessToken }, options) {
      const out = await sendWithDeadline<{ roleCredentials?: Record<string, unknown> }>(
        client,
        new GetRoleCredentialsCommand({ accountId, roleName, accessToken }),
        { timeouts: settings.timeouts, signal: options?.signal },
      );
      const role = (out.roleCredentials ?? {}) as { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; expiration?: number };
      if (!role.accessKeyId || !role.secretAccessKey || !role.sessionToken || !role.expiration) {
        throw Object.assign(new Error('GetRoleCredentials answered without accessKeyId, secretAccessKey, sessionToken or expiration'), {
          name: 'InvalidRoleCredentials',
        });
      }
      return {
        accessKeyId: role.accessKeyId,
        secretAccessKey: role.secretAccessKey,
        sessionToken: role.sessionToken,
        expiration: new Date(Number(role.expiration)),
      };
    },
  };
}
