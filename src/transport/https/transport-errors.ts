/**
 * Maps what undici and Node throw for an outgoing request onto the Transport port's error codes
 * (TIMEOUT, TLS_PIN, ABORTED, CONNECT_FAILED): the core reacts to the code, never to a message.
 */
import { TransportError } from '../../ports.ts';

/** Node error codes that mean "the certificate did not verify" (domain pins) → TLS_PIN. */
const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE/;
/** undici / Node codes that mean a timeout → TIMEOUT. */
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** The TransportError for a failed request to `address` (`timedOut`: our own deadline fired). */
export function toTransportError(err: unknown, timedOut: boolean, address: string): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: unknown };
  const code = String(e?.code ?? '');
  const cause = (e?.cause ?? {}) as { code?: string };
  if (timedOut || TIMEOUT_CODES.has(code)) {
    return new TransportError('TIMEOUT', `No answer from ${address} in time`, { cause: err });
  }
  if (e?.cause instanceof TransportError) return e.cause;
  if (CERT_ERROR.test(code) || CERT_ERROR.test(String(cause.code ?? ''))) {
    return new TransportError('TLS_PIN', `Certificate of ${address} is not valid: ${e.message}`, { cause: err });
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_ABORTED') {
    return new TransportError('ABORTED', `Request to ${address} aborted`, { cause: err });
  }
  return new TransportError('CONNECT_FAILED', `Cannot reach ${address}: ${e?.message ?? String(err)}`, {
    cause: err,
  });
}
