import { SsmProxyError } from '../errors.js';

/** OpenSSL's verification failures that a missing or wrong CA bundle causes. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

const OTHER_TLS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_REVOKED']);

/** A certificate verification failure's code, found on the error or in its message. */
export function tlsErrorCode(error: unknown): string | undefined {
  const err = (error ?? {}) as { code?: string; message?: string; cause?: unknown };
  if (err.code && (UNTRUSTED.has(err.code) || OTHER_TLS.has(err.code))) return err.code;
  const inMessage = /\b(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_UNTRUSTED|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)\b/.exec(
    err.message ?? '',
  );
  if (inMessage) return inMessage[1];
  if (/self[- ]signed certificate|unable to verify the first certificate|unable to get local issuer certificate/i.test(err.message ?? '')) {
    return 'UNABLE_TO_VERIFY_LEAF_SIGNATURE';
  }
  return err.cause ? tlsErrorCode(err.cause) : undefined;
}

/**
 * One line for a TLS verification failure talking to `where`, naming the fix. Verification is
 * never turned off: the fix is always a CA bundle that holds the issuing CA.
 */
export function describeTlsFailure(code: string, where: string): SsmProxyError {
  if (UNTRUSTED.has(code)) {
    return new SsmProxyError(
      'network',
      `the TLS certificate of ${where} is not signed by a trusted CA (${code}); if a corporate proxy or CA inspects TLS, ` +
        `pass --ca-bundle FILE or set AWS_CA_BUNDLE (or ca_bundle in the profile) to a PEM file holding that CA`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new SsmProxyError('network', `the TLS certificate of ${where} does not name that host (${code}); check the endpoint URL (a PrivateLink endpoint needs its own DNS name)`);
  }
  return new SsmProxyError('network', `the TLS certificate of ${where} was rejected (${code}); check the system clock and the CA bundle`);
}
