/**
 * The program that opens a URL in the user's browser: `open` on macOS; on Windows
 * `rundll32.exe url.dll,FileProtocolHandler <url>`, which hands the URL to the default browser
 * without cmd.exe (whose `start` would read `&` in a URL as a command separator); `xdg-open`
 * elsewhere, but only where a display exists.
 */
export interface BrowserOpener {
  command: string;
  args: string[];
}

export function browserOpener(url: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): BrowserOpener | undefined {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return { command: 'xdg-open', args: [url] };
  return undefined;
}
