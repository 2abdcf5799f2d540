/**
 * A ProxyCommand for Windows OpenSSH (Win32-OpenSSH, the ssh.exe that ships with Windows).
 *
 * It runs a ProxyCommand with no shell: after expanding %-tokens it hands the whole text to
 * CreateProcessW as the command line (its posix_spawnp emulation, spawn_child_internal in
 * contrib/win32/win32compat/w32fd.c). A command line that starts with a double quote is passed
 * as it is; otherwise it guesses where the program name ends (after ".exe ") and quotes it. So:
 *
 *   - the program is always double-quoted, and so starts the line: no guessing;
 *   - every other word is quoted the way the program's C runtime splits its command line
 *     (CommandLineToArgvW rules, which Node follows): a word with a space, tab or quote goes in
 *     double quotes, a quote inside is \", and backslashes are doubled only where they come
 *     before a quote; elsewhere a backslash is an ordinary character, as in C:\Users\me;
 *   - ssh expands %-tokens first, so a literal % is written %%.
 *
 * There is no sh here, so no $, `, ' or globbing to protect against.
 */

/** One argument as the Windows C runtime reads it back. */
export function windowsArgument(word: string): string {
  if (word !== '' && !/[\s"]/.test(word)) return word;
  let out = '"';
  let backslashes = 0;
  for (const ch of word) {
    if (ch === '\\') {
      backslashes++;
    } else if (ch === '"') {
      out += '\\'.repeat(backslashes * 2 + 1) + '"';
      backslashes = 0;
    } else {
      out += '\\'.repeat(backslashes) + ch;
      backslashes = 0;
    }
  }
  // Backslashes before the closing quote would escape it: double them.
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/**
 * The program word: the path in double quotes, unchanged. A quote cannot be part of a Windows
 * file name, and CreateProcess takes everything up to the next quote as the program.
 */
export function windowsProgram(program: string): string {
  if (program.includes('"')) throw new Error(`a Windows program path cannot contain a double quote: ${program}`);
  return `"${program}"`;
}

const literalPercent = (word: string): string => word.replace(/%/g, '%%');

/**
 * The ProxyCommand install-host writes on Windows: ssm-proxy's own words (the .exe, or node.exe
 * and the script), `connect`, the target, ssh's %p, then the profile and region flags.
 */
export function windowsProxyCommand(self: readonly string[], settings: { target: string; profile?: string; region?: string }): string {
  const [program, ...rest] = self;
  if (program === undefined) throw new Error('no program to run');
  const words = [windowsProgram(program), ...rest.map(windowsArgument), 'connect', windowsArgument(settings.target)].map(literalPercent);
  words.push('%p');
  if (settings.profile !== undefined) words.push('--profile', literalPercent(windowsArgument(settings.profile)));
  if (settings.region !== undefined) words.push('--region', literalPercent(windowsArgument(settings.region)));
  return words.join(' ');
}

/**
 * Splits a command line as the Windows C runtime does (for the tests and for reading back what
 * was written): the program up to the closing quote, then CommandLineToArgvW's rules.
 */
export function splitWindowsCommandLine(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  };
  skipSpace();
  if (i >= line.length) return words;
  // The program: quotes toggle, no escapes.
  let program = '';
  let quoted = false;
  for (; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ' ' || ch === '\t')) break;
    else program += ch;
  }
  words.push(program);
  for (;;) {
    skipSpace();
    if (i >= line.length) return words;
    let word = '';
    let inQuotes = false;
    for (; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          word += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) word += '"';
          else inQuotes = !inQuotes;
        } else {
          word += '\\'.repeat(n);
          i--;
        }
      } else if (ch === '"') {
        // "" inside quotes is a literal quote (the rule of the C runtime since 2008).
        if (inQuotes && line[i + 1] === '"') {
          word += '"';
          i++;
        } else {
          inQuotes = !inQuotes;
        }
      } else if (!inQuotes && (ch === ' ' || ch === '\t')) {
        break;
      } else {
        word += ch;
      }
    }
    words.push(word);
  }
}
