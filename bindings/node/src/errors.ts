/** Status codes and the error hierarchy; nothing here touches the native library. */

/** The C `ky_status` codes (a contract: never renumbered; new codes may be added). */
export const Status = {
  OK: 0,
  INVALID_ARGUMENT: 1,
  BUFFER_TOO_SMALL: 2,
  NETWORK: 3,
  TIMEOUT: 4,
  TLS: 5,
  HTTP_STATUS: 6,
  API: 7,
  BAD_RESPONSE: 8,
  INTERNAL: 9,
  CANCELLED: 10,
  BUSY: 11,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** The C names of the codes above (`ky_status_name` without loading the library). */
const NAMES: Record<number, string> = {
  0: 'KY_OK',
  1: 'KY_ERR_INVALID_ARGUMENT',
  2: 'KY_ERR_BUFFER_TOO_SMALL',
  3: 'KY_ERR_NETWORK',
  4: 'KY_ERR_TIMEOUT',
  5: 'KY_ERR_TLS',
  6: 'KY_ERR_HTTP_STATUS',
  7: 'KY_ERR_API',
  8: 'KY_ERR_BAD_RESPONSE',
  9: 'KY_ERR_INTERNAL',
  10: 'KY_ERR_CANCELLED',
  11: 'KY_ERR_BUSY',
};

/** The C name of a status code, e.g. `KY_ERR_TIMEOUT`; `KY_ERR_UNKNOWN` for a code this package does not know. */
export function statusName(status: number): string {
  return NAMES[status] ?? 'KY_ERR_UNKNOWN';
}

/**
 * A failed call. `status` is the C `ky_status` code, `statusName` its C name, `apiErr` the
 * upstream `err` of an {@link ApiError} (else 0), `message` the library's UTF-8 message (the
 * upstream `msg`, e.g. 项目不存在, is kept). Messages never contain the token.
 */
export class KyError extends Error {
  readonly status: number;
  readonly statusName: string;
  readonly apiErr: number;

  constructor(status: number, message: string, apiErr = 0) {
    super(message);
    this.status = status;
    this.statusName = statusName(status);
    this.apiErr = apiErr;
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The error class for a status code (plain {@link KyError} for a code this package does not know). */
  static fromStatus(status: number, message: string, apiErr = 0): KyError {
    const Class = CLASS_BY_STATUS[status] ?? KyError;
    return new Class(status, message, apiErr);
  }
}

/** `KY_ERR_INVALID_ARGUMENT`: a malformed program id or configuration value; no request was sent. */
export class InvalidArgumentError extends KyError {}
/** A {@link Client} used after `close()` (status `KY_ERR_INVALID_ARGUMENT`). */
export class ClientClosedError extends InvalidArgumentError {}
/** `KY_ERR_BUFFER_TOO_SMALL`: kept for completeness; this package sizes its buffers itself. */
export class BufferTooSmallError extends KyError {}
/**
 * `KY_ERR_NETWORK`: no usable HTTP answer (connection refused/reset, DNS, proxy), and as
 * subclasses a passed deadline or a TLS failure. Usually transient.
 */
export class NetworkError extends KyError {}
/** `KY_ERR_TIMEOUT`: the whole-call deadline passed (retries included). */
export class TimeoutError extends NetworkError {}
/** `KY_ERR_TLS`: certificate not trusted or handshake failed. */
export class TlsError extends NetworkError {}
/** `KY_ERR_HTTP_STATUS`: the server answered a non-2xx status (redirects are not followed). */
export class HttpStatusError extends KyError {}
/** `KY_ERR_API`: the API answered `err != 0` (see `apiErr`; the message carries the upstream `msg`). */
export class ApiError extends KyError {}
/** `KY_ERR_BAD_RESPONSE`: the answer was not the documented JSON or had no usable token. */
export class BadResponseError extends KyError {}
/** `KY_ERR_INTERNAL`: a bug inside the library (a caught panic); the process is unaffected. */
export class InternalError extends KyError {}
/** `KY_ERR_CANCELLED`: an async call was not run because its client was being closed. */
export class CancelledError extends KyError {}
/** `KY_ERR_BUSY`: too many async calls are queued on the client (4096); nothing was queued. */
export class BusyError extends KyError {}

type KyErrorClass = new (status: number, message: string, apiErr?: number) => KyError;

const CLASS_BY_STATUS: Record<number, KyErrorClass> = {
  [Status.INVALID_ARGUMENT]: InvalidArgumentError,
  [Status.BUFFER_TOO_SMALL]: BufferTooSmallError,
  [Status.NETWORK]: NetworkError,
  [Status.TIMEOUT]: TimeoutError,
  [Status.TLS]: TlsError,
  [Status.HTTP_STATUS]: HttpStatusError,
  [Status.API]: ApiError,
  [Status.BAD_RESPONSE]: BadResponseError,
  [Status.INTERNAL]: InternalError,
  [Status.CANCELLED]: CancelledError,
  [Status.BUSY]: BusyError,
};

/** The native library could not be loaded (or is not a matching version); the message lists every place tried. */
export class LibraryNotFoundError extends Error {
  override get name(): string {
    return 'LibraryNotFoundError';
  }
}
