import type { NetworkAgents } from './network-agents.js';
import type { NetworkSettings } from './network-settings.js';

export interface Network {
  settings: NetworkSettings;
  /** undefined when neither a proxy nor a CA bundle is in effect (no agent package is loaded). */
  agents: NetworkAgents | undefined;
}

/** Resolves the settings once (flags > environment > profile) and builds the agents every client of a command shares. */
export async function buildNetwork(
  flags: { proxy?: string | undefined; caBundle?: string | undefined },
  profileCaBundle: { path: string; profile: string } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Network> {
  const [{ resolveNetworkSettings }, { createNetworkAgents }] = await Promise.all([import('./network-settings.js'), import('./network-agents.js')]);
  const settings = resolveNetworkSettings({ proxy: flags.proxy, caBundle: flags.caBundle, profileCaBundle, env });
  return { settings, agents: await createNetworkAgents(settings) };
}
