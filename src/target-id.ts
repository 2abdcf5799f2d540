/**
 * What a Session Manager target id looks like. Shared by `connect` and `install-host`, so both
 * refuse the same typos with the same words before any AWS call or file write happens.
 */

const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const MANAGED_NODE_ID = /^mi-[0-9a-f]{17}$/;

/** Words for error messages: what a valid id is. */
export const TARGET_ID_HINT =
  'expected an EC2 instance id (i- and 8 or 17 lowercase hex digits) or a managed-node id (mi- and 17 lowercase hex digits)';

export function isValidTargetId(s: string): boolean {
  return INSTANCE_ID.test(s) || MANAGED_NODE_ID.test(s);
}
