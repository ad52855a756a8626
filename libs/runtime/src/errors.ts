/**
 * An error the user can cause and fix (bad path, malformed record, wrong format).
 * CLIs print its message as one line, without a stack trace.
 */
export class UserError extends Error {
  readonly file?: string;
  readonly record?: string | number;
  constructor(message: string, opts: { file?: string; record?: string | number; cause?: unknown } = {}) {
    const where = [opts.file, opts.record !== undefined ? `record ${opts.record}` : undefined].filter(Boolean).join(', ');
    super(where ? `${where}: ${message}` : message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'UserError';
    this.file = opts.file;
    this.record = opts.record;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
