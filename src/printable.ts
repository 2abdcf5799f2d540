/**
 * Text from outside ssm-proxy (argv, config files, service messages) made safe to print on a
 * terminal: C0/C1 control characters and DEL (escape sequences can retitle the window, hide
 * text or move the cursor) are shown as \xNN, and a backslash as \\ so the output stays
 * unambiguous. Printable Unicode passes unchanged.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\x00-\x1f\x7f-\x9f]/g, (char) =>
    char === '\\' ? '\\\\' : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
