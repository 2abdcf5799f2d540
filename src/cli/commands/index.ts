import type { CommandModule } from 'yargs';
import { configureProfileCommand } from './configure-profile.js';
import { connectCommand } from './connect.js';
import { doctorCommand } from './doctor.js';
import { forwardCommand } from './forward.js';
import { installHostCommand } from './install-host.js';
import { listHostsCommand } from './list-hosts.js';
import { loginCommand } from './login.js';
import { shellCommand } from './shell.js';
import { startSessionCommand } from './start-session.js';
import { uninstallHostCommand } from './uninstall-host.js';

/** Every command the CLI offers, in the order --help lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  connectCommand,
  forwardCommand,
  shellCommand,
  startSessionCommand,
  loginCommand,
  configureProfileCommand,
  installHostCommand,
  uninstallHostCommand,
  listHostsCommand,
  doctorCommand,
];
