/**
 * The comments install-host leaves so uninstall-host can undo exactly what it wrote, and nothing
 * else. They are ordinary comments to OpenSSH.
 */

/** Put above a Host block install-host created; uninstall removes the whole block. */
export const CREATED_MARKER = '# added by ssm-proxy install-host';

/** Put above a line install-host changed in an existing block, followed by the old line. */
export const REPLACED_MARKER = '# ssm-proxy install-host replaced: ';

/** Put above a line install-host added to an existing block. */
export const ADDED_MARKER = '# ssm-proxy install-host added the next line';

export function isOurMarker(commentBody: string): boolean {
  return commentBody === CREATED_MARKER || commentBody === ADDED_MARKER || commentBody.startsWith(REPLACED_MARKER);
}
