/** The slice of autobahn-js 26's (untyped) API the wrapper uses. */
export interface AbDeferred {
  promise: Promise<unknown> & { progress?: (cb: (v: unknown) => void) => void };
  resolve(v: unknown): void;
  reject(e: unknown): void;
  notify(v: unknown): void;
}

export interface AbInvocation {
  procedure: string;
  progress: ((args?: unknown[], kwargs?: Record<string, unknown>) => void) | null;
  caller?: number;
  caller_authid?: string;
  caller_authrole?: string;
}

export interface AbEventDetails {
  publication: number;
  topic?: string;
  publisher?: number;
}

export interface AbRegistration {
  id: number;
  procedure: string;
  active: boolean;
}
export interface AbSubscription {
  id: number;
  topic: string;
  active: boolean;
}

export interface AbSession {
  id: number;
  isOpen: boolean;
  call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
  publish(
    topic: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
    options?: Record<string, unknown>,
  ): Promise<unknown> | undefined;
  subscribe(
    topic: string,
    handler: (args: unknown[], kwargs: Record<string, unknown>, details: AbEventDetails) => void,
    options?: Record<string, unknown>,
  ): Promise<AbSubscription>;
  unsubscribe(sub: AbSubscription): Promise<unknown>;
  register(
    procedure: string,
    endpoint: (args: unknown[], kwargs: Record<string, unknown>, details: AbInvocation) => unknown,
    options?: Record<string, unknown>,
  ): Promise<AbRegistration>;
  unregister(reg: AbRegistration): Promise<unknown>;
  leave(reason?: string, message?: string): void;
}

export interface AbConnection {
  onopen: ((session: AbSession, details: Record<string, unknown>) => void) | null;
  onclose: ((reason: string, details: Record<string, unknown>) => boolean | void) | null;
  open(): void;
  close(reason?: string, message?: string): void;
  isOpen: boolean;
  session: AbSession | null;
}

export interface AutobahnModule {
  Connection: new (options: Record<string, unknown>) => AbConnection;
  Result: new (args?: unknown[], kwargs?: Record<string, unknown>) => { args: unknown[]; kwargs: Record<string, unknown> };
  Error: new (
    error: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
  ) => { error: string; args: unknown[]; kwargs: Record<string, unknown> };
  auth_cra: {
    sign(key: string, challenge: string): string;
    derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string;
  };
  serializer: { JSONSerializer: new () => unknown; MsgpackSerializer?: new () => unknown };
  log: { warn: (...a: unknown[]) => void; debug: (...a: unknown[]) => void };
}
