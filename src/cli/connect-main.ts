import type { ConnectArgs } from './commands/connect.js';

export async function runConnect(_args: ConnectArgs): Promise<number> {
  throw new Error('not implemented yet');
}
