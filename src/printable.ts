/**
 * Text from outside ssm-proxy (argv, config files, service messages) made safe to print on a
 * terminal: C0/C1 control characters and DEL (escape sequences can retitle the window, hide
 * text or move the cursor) are shown as \xNN. Everything else passes unchanged, backslashes
 * included (Windows paths stay readable), so applying it twice changes nothing: a message built
 * with printable() parts can go through the CLI's last printable() unharmed.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
