/** ssm-proxy's own version; a test keeps it equal to package.json's. */
export const VERSION = '0.1.0';

/**
 * The session-manager-plugin version we claim in OpenDataChannelInput and HandshakeResponse.
 * The agent steers behaviour by it (docs/protocol.md §8.5) and AWS names 1.2.764.0 the minimum supported
 * client (docs/protocol.md §0), so claim a realistic 4-part release at or above it.
 */
export const CLAIMED_PLUGIN_VERSION = '1.2.764.0';
