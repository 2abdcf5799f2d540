/**
 * Every module `connect` loads once its command line is checked, in one list: connect loads them
 * all at once as soon as its AWS configuration is read and the SSM API connection is on its way
 * (connect-main.ts, session-setup.ts), and the single executable's startup-snapshot builder calls
 * this same function so that exactly these are evaluated at build time. The modules' own lazy
 * `import()`s of the same files then find them loaded.
 */
import { loadCommonJs } from '../aws/commonjs-package.js';

export interface ConnectModuleScope {
  /**
   * Also what other runs of connect load: an SSO signer (token cache, device sign-in, the portal
   * and OIDC clients) and an HTTP(S) proxy. For the snapshot builder, which cannot know the run;
   * connect itself leaves them to the code that needs them.
   */
  everyVariant?: boolean;
  /** With everyVariant: the HTTP(S) proxy agents too (default true). */
  proxyAgents?: boolean;
}

export async function loadConnectModules(scope: ConnectModuleScope = {}): Promise<void> {
  // Loading is long synchronous work: between its steps the event loop turns, so a connection
  // opened ahead (network/warm-api-agent.ts) gets on with its TCP and TLS handshakes meanwhile.
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await turn();
  // CommonJS packages first, through require on the user's Node (aws/commonjs-package.ts): the SDK
  // and what the transport imports (ws, the SigV4 signer). The transport's ES imports of the same
  // packages then find them in require's cache instead of loading them again their slower way.
  const [ssm, credentials, config] = await Promise.all([import('../aws/ssm-api.js'), import('../aws/credentials.js'), import('../aws/config-files.js')]);
  await Promise.all([
    ssm.loadSsmClient(),
    credentials.loadCredentialProviders(),
    config.loadSmithyConfig(),
    loadCommonJs('@smithy/signature-v4', () => import('@smithy/signature-v4')),
    loadCommonJs('@smithy/hash-node', () => import('@smithy/hash-node')),
    loadCommonJs('@smithy/protocol-http', () => import('@smithy/protocol-http')),
    loadCommonJs('ws', () => import('ws')),
  ]);
  await turn();
  await Promise.all([
    import('./connect-main.js'),
    import('./session-setup.js'),
    import('./network-options.js'),
    import('../aws/aws-context.js'),
    import('../aws/ssm-endpoint.js'),
    import('../network/warm-api-agent.js'),
    import('../transport/warm-socket.js'),
    import('../aws/config-files.js'),
    import('../aws/credentials.js'),
    import('../aws/ssm-api.js'),
    import('../network/build-network.js'),
    import('../network/network-agents.js'),
    import('../session/websocket-connection.js'),
    import('../session/run-session.js'),
    import('../session/port-over-stdio.js'),
    import('../log.js'),
    import('../scheduler.js'),
  ]);
  await turn();
  if (!scope.everyVariant) return;
  const [portal, oidc] = await Promise.all([
    import('../aws/sso/portal-client.js'),
    import('../aws/sso/oidc-client.js'),
    import('../aws/sso/ensure-token.js'),
    import('../aws/sso/open-browser.js'),
    import('../aws/sso/role-credential-cache.js'),
  ]);
  await Promise.all([portal.loadSsoClient(), oidc.loadOidcClient()]);
  // The proxy agents subclass node:http's Agent when they load, which a startup snapshot cannot
  // hold (scripts/snapshot-plugins.ts): the snapshot builder leaves them to the run that uses a proxy.
  if (scope.proxyAgents === false) return;
  await Promise.all([import('agent-base'), import('https-proxy-agent')]);
}
