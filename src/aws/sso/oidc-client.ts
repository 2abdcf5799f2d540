/**
 * The three SSO-OIDC calls ssm-proxy makes, behind a small interface so the login and refresh
 * logic can be driven by tests. The real one is @aws-sdk/client-sso-oidc, loaded lazily. It is
 * built with the SSO region only: its endpoint is the SDK's own choice, so
 * AWS_ENDPOINT_URL_SSO_OIDC (or `[services]` / endpoint_url in the config file) overrides it,
 * exactly as for the SDK's internal refresh in fromSSO.
 */
import { clientOptions, labelEndpoints, sendWithDeadline, type AwsClientSettings } from '../aws-call.js';
import { loadCommonJs } from '../commonjs-package.js';

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  /** Epoch seconds. */
  clientSecretExpiresAt: number;
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | undefined;
  /** Seconds. */
  expiresIn: number;
  /** Seconds between polls. */
  interval: number;
}

export interface TokenGrant {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  refreshToken: string | undefined;
}

export interface OidcApi {
  registerClient(request: { clientName: string; scopes: string[] }): Promise<ClientRegistration>;
  startDeviceAuthorization(request: { clientId: string; clientSecret: string; startUrl: string }): Promise<DeviceAuthorization>;
  createToken(
    request:
      | { grantType: 'urn:ietf:params:oauth:grant-type:device_code'; clientId: string; clientSecret: string; deviceCode: string }
      | { grantType: 'refresh_token'; clientId: string; clientSecret: string; refreshToken: string },
  ): Promise<TokenGrant>;
}

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code' as const;

/** The SSO-OIDC client package (token refresh and device sign-in). */
export function loadOidcClient() {
  return loadCommonJs('@aws-sdk/client-sso-oidc', () => import('@aws-sdk/client-sso-oidc'));
}

export async function createOidcApi(region: string, settings: AwsClientSettings, signal?: AbortSignal): Promise<OidcApi> {
  const { SSOOIDCClient, RegisterClientCommand, StartDeviceAuthorizationCommand, CreateTokenCommand } = await loadOidcClient();
  // No credentials: these three operations are unsigned (smithy.api#noAuth).
  const client = labelEndpoints(new SSOOIDCClient({ region, ...clientOptions(settings, 2) }));
  const send = <T>(command: unknown) => sendWithDeadline<T>(client, command, { timeouts: settings.timeouts, signal });
  type Out = Record<string, string | number | undefined>;
  return {
    async registerClient({ clientName, scopes }) {
      const out = await send<Out>(new RegisterClientCommand({ clientName, clientType: 'public', ...(scopes.length > 0 ? { scopes } : {}) }));
      if (typeof out.clientId !== 'string' || typeof out.clientSecret !== 'string') throw new Error('RegisterClient answered without clientId or clientSecret');
      return { clientId: out.clientId, clientSecret: out.clientSecret, clientSecretExpiresAt: Number(out.clientSecretExpiresAt ?? 0) };
    },
    async startDeviceAuthorization(request) {
      const out = await send<Out>(new StartDeviceAuthorizationCommand(request));
      if (typeof out.deviceCode !== 'string' || typeof out.userCode !== 'string' || typeof out.verificationUri !== 'string') {
        throw new Error('StartDeviceAuthorization answered without deviceCode, userCode or verificationUri');
      }
      return {
        deviceCode: out.deviceCode,
        userCode: out.userCode,
        verificationUri: out.verificationUri,
        verificationUriComplete: typeof out.verificationUriComplete === 'string' ? out.verificationUriComplete : undefined,
        expiresIn: Number(out.expiresIn ?? 600),
        interval: Number(out.interval ?? 5),
      };
    },
    async createToken(request) {
      const out = await send<Out>(new CreateTokenCommand(request));
      if (typeof out.accessToken !== 'string' || out.expiresIn === undefined) throw new Error('CreateToken answered without accessToken or expiresIn');
      return { accessToken: out.accessToken, expiresIn: Number(out.expiresIn), refreshToken: typeof out.refreshToken === 'string' ? out.refreshToken : undefined };
    },
  };
}
