/**
 * A fake of AWS IAM Identity Center on one loopback port: the SSO-OIDC service (RegisterClient,
 * StartDeviceAuthorization, CreateToken with the device-code and refresh-token grants) and the SSO
 * portal (GetRoleCredentials). It answers the way the real services do for the SDK's restJson1
 * clients: JSON bodies, `x-amzn-ErrorType` on errors, OAuth error codes in the body.
 *
 * Point the SDK at it with AWS_ENDPOINT_URL_SSO_OIDC and AWS_ENDPOINT_URL_SSO (both = `url`).
 * A device authorization is approved automatically after `pendingPolls` polls (or by `approve`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeSsoOptions {
  /** CreateToken answers authorization_pending this many times before success. Default 1. */
  pendingPolls?: number;
  /** Answer slow_down on this (1-based) poll. Default never. */
  slowDownOnPoll?: number;
  /** StartDeviceAuthorization's interval (seconds). Default 1. */
  interval?: number;
  /** Access token lifetime (seconds). Default 3600. */
  tokenExpiresIn?: number;
  /** Issue refresh tokens (when the client registered with scopes). Default true. */
  issueRefreshTokens?: boolean;
  /** The user denies the sign-in in the browser. */
  denyDeviceAuthorization?: boolean;
  /** Role credentials for these (accountId/roleName) pairs; others get ForbiddenException. Default: any. */
  assignedRoles?: string[];
  /** Hand out these role credentials (so another fake can verify signatures); default: fresh ones per call. */
  roleCredentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface OidcCallRecord {
  operation: 'RegisterClient' | 'StartDeviceAuthorization' | 'CreateToken' | 'GetRoleCredentials' | 'Unknown';
  status: number;
  errorType?: string;
  grantType?: string;
  scopes?: string[];
  startUrl?: string;
  accountId?: string;
  roleName?: string;
  /** Which access token was presented (GetRoleCredentials). */
  accessToken?: string;
  /** Which refresh token was redeemed (refresh_token grant). */
  refreshToken?: string;
}

export interface IssuedRoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  accountId: string;
  roleName: string;
}

export interface FakeSso {
  url: string;
  options: Required<Omit<FakeSsoOptions, 'slowDownOnPoll' | 'assignedRoles' | 'roleCredentials'>> &
    Pick<FakeSsoOptions, 'slowDownOnPoll' | 'assignedRoles' | 'roleCredentials'>;
  calls: OidcCallRecord[];
  /** Every secret the fake handed out (client secrets, device codes, tokens, role credentials). */
  secrets(): string[];
  issuedCredentials: IssuedRoleCredentials[];
  /** Valid access tokens (issued by the device or refresh grant, or added by `addAccessToken`). */
  addAccessToken(token: string): void;
  /** Registers a client + refresh token pair, as if issued earlier, for refresh tests. */
  addRefreshToken(clientId: string, clientSecret: string, refreshToken: string): void;
  revokeRefreshTokens(): void;
  approve(userCode: string): void;
  env(): Record<string, string>;
  close(): Promise<void>;
}

interface Client {
  clientSecret: string;
  scopes: string[];
}

interface Device {
  clientId: string;
  userCode: string;
  polls: number;
  approved: boolean;
  used: boolean;
  expiresAt: number;
}

export async function startFakeSso(input: FakeSsoOptions = {}): Promise<FakeSso> {
  const options = {
    pendingPolls: 1,
    interval: 1,
    tokenExpiresIn: 3600,
    issueRefreshTokens: true,
    denyDeviceAuthorization: false,
    ...input,
  };
  const calls: OidcCallRecord[] = [];
  const secrets: string[] = [];
  const issuedCredentials: IssuedRoleCredentials[] = [];
  const clients = new Map<string, Client>();
  const devices = new Map<string, Device>();
  const accessTokens = new Set<string>();
  const refreshTokens = new Map<string, string>(); // refresh token → clientId
  const secret = (prefix: string, bytes = 24) => {
    const value = `${prefix}${randomBytes(bytes).toString('hex')}`;
    secrets.push(value);
    return value;
  };
  let keyCounter = 0;

  const handler = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const record: OidcCallRecord = { operation: 'Unknown', status: 0 };
    calls.push(record);
    const reply = (status: number, payload: unknown, errorType?: string) => {
      record.status = status;
      if (errorType) record.errorType = errorType;
      const bytes = Buffer.from(JSON.stringify(payload));
      response.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': bytes.length,
        'x-amzn-RequestId': randomBytes(8).toString('hex'),
        ...(errorType ? { 'x-amzn-ErrorType': `${errorType}:http://internal.amazon.com/coral/com.amazonaws.fake/` } : {}),
      });
      response.end(bytes);
    };
    const oauthError = (type: string, error: string, description: string) => reply(400, { error, error_description: description }, type);
    let input: Record<string, unknown> = {};
    if (body) {
      try {
        input = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return oauthError('InvalidRequestException', 'invalid_request', 'body is not JSON');
      }
    }
    const str = (key: string) => (typeof input[key] === 'string' ? (input[key] as string) : undefined);

    if (request.method === 'POST' && url.pathname === '/client/register') {
      record.operation = 'RegisterClient';
      const scopes = Array.isArray(input.scopes) ? input.scopes.map(String) : [];
      record.scopes = scopes;
      if (str('clientType') !== 'public' || !str('clientName')) {
        return oauthError('InvalidClientMetadataException', 'invalid_client_metadata', 'clientName and clientType public required');
      }
      const clientId = `client-${randomBytes(6).toString('hex')}`;
      const clientSecret = secret('fake-client-secret-');
      clients.set(clientId, { clientSecret, scopes });
      const now = Math.floor(Date.now() / 1000);
      return reply(200, { clientId, clientSecret, clientIdIssuedAt: now, clientSecretExpiresAt: now + 90 * 86400 });
    }
    if (request.method === 'POST' && url.pathname === '/device_authorization') {
      record.operation = 'StartDeviceAuthorization';
      record.startUrl = str('startUrl');
      const clientId = str('clientId') ?? '';
      const client = clients.get(clientId);
      if (!client || client.clientSecret !== str('clientSecret')) {
        return oauthError('InvalidClientException', 'invalid_client', 'Invalid client');
      }
      if (!record.startUrl) return oauthError('InvalidRequestException', 'invalid_request', 'startUrl required');
      const deviceCode = secret('fake-device-code-');
      const userCode = `${randomBytes(2).toString('hex').toUpperCase()}-${randomBytes(2).toString('hex').toUpperCase()}`;
      devices.set(deviceCode, { clientId, userCode, polls: 0, approved: false, used: false, expiresAt: Date.now() + 600_000 });
      return reply(200, {
        deviceCode,
        userCode,
        verificationUri: 'https://device.sso.fake.example/',
        verificationUriComplete: `https://device.sso.fake.example/?user_code=${userCode}`,
        expiresIn: 600,
        interval: options.interval,
      });
    }
    if (request.method === 'POST' && url.pathname === '/token') {
      record.operation = 'CreateToken';
      const grantType = str('grantType');
      record.grantType = grantType;
      const clientId = str('clientId') ?? '';
      const client = clients.get(clientId);
      if (!client || client.clientSecret !== str('clientSecret')) {
        return oauthError('InvalidClientException', 'invalid_client', 'Invalid client');
      }
      const issue = () => {
        const accessToken = secret('fake-access-token-');
        accessTokens.add(accessToken);
        let refreshToken: string | undefined;
        if (options.issueRefreshTokens && client.scopes.length > 0) {
          refreshToken = secret('fake-refresh-token-');
          refreshTokens.set(refreshToken, clientId);
        }
        return reply(200, { accessToken, tokenType: 'Bearer', expiresIn: options.tokenExpiresIn, ...(refreshToken ? { refreshToken } : {}) });
      };
      if (grantType === 'urn:ietf:params:oauth:grant-type:device_code') {
        const device = devices.get(str('deviceCode') ?? '');
        if (!device || device.clientId !== clientId || device.used) return oauthError('InvalidGrantException', 'invalid_grant', 'Invalid grant provided');
        if (Date.now() > device.expiresAt) return oauthError('ExpiredTokenException', 'expired_token', 'Device code expired');
        device.polls++;
        if (options.denyDeviceAuthorization) return oauthError('AccessDeniedException', 'access_denied', 'The user denied the request');
        if (options.slowDownOnPoll === device.polls) return oauthError('SlowDownException', 'slow_down', 'Slow down');
        if (!device.approved && device.polls <= options.pendingPolls) {
          return oauthError('AuthorizationPendingException', 'authorization_pending', 'Authorization is still pending');
        }
        device.used = true;
        return issue();
      }
      if (grantType === 'refresh_token') {
        const refreshToken = str('refreshToken') ?? '';
        record.refreshToken = refreshToken;
        if (refreshTokens.get(refreshToken) !== clientId) return oauthError('InvalidGrantException', 'invalid_grant', 'Invalid refresh token provided');
        refreshTokens.delete(refreshToken); // rotated, as IAM Identity Center does
        return issue();
      }
      return oauthError('UnsupportedGrantTypeException', 'unsupported_grant_type', `Unsupported grant type ${grantType}`);
    }
    if (request.method === 'GET' && url.pathname === '/federation/credentials') {
      record.operation = 'GetRoleCredentials';
      const accessToken = String(request.headers['x-amz-sso_bearer_token'] ?? '');
      const accountId = url.searchParams.get('account_id') ?? '';
      const roleName = url.searchParams.get('role_name') ?? '';
      Object.assign(record, { accessToken, accountId, roleName });
      if (!accessTokens.has(accessToken)) return reply(401, { message: 'Session token not found or invalid' }, 'UnauthorizedException');
      if (options.assignedRoles && !options.assignedRoles.includes(`${accountId}/${roleName}`)) {
        return reply(403, { message: 'No access' }, 'ForbiddenException');
      }
      const credentials: IssuedRoleCredentials = {
        accessKeyId: options.roleCredentials?.accessKeyId ?? `ASIAFAKESSO${String(++keyCounter).padStart(9, '0')}`,
        secretAccessKey: options.roleCredentials?.secretAccessKey ?? secret('fakeSecretKey', 20),
        sessionToken: secret('fakeSessionToken', 40),
        accountId,
        roleName,
      };
      issuedCredentials.push(credentials);
      return reply(200, {
        roleCredentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          expiration: Date.now() + 3600_000,
        },
      });
    }
    return reply(404, { message: 'Not Found' }, 'ResourceNotFoundException');
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    options,
    calls,
    secrets: () => [...secrets],
    issuedCredentials,
    addAccessToken: (token) => {
      accessTokens.add(token);
      secrets.push(token);
    },
    addRefreshToken: (clientId, clientSecret, refreshToken) => {
      clients.set(clientId, { clientSecret, scopes: ['sso:account:access'] });
      refreshTokens.set(refreshToken, clientId);
      secrets.push(clientSecret, refreshToken);
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    approve: (userCode) => {
      for (const device of devices.values()) if (device.userCode === userCode) device.approved = true;
    },
    env: () => ({ AWS_ENDPOINT_URL_SSO_OIDC: url, AWS_ENDPOINT_URL_SSO: url }),
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}
