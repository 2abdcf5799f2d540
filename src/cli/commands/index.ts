import type { CommandModule } from 'yargs';
import { connectCommand } from './connect.js';

/** Every command the CLI offers, in the order --help lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [connectCommand];
