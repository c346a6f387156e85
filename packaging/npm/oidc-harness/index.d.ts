/// <reference types="node" />
import type { Agent } from 'node:https';

export interface StartOptions {
  /** The binary to run [default: OIDC_HARNESS_BIN, else the platform package's]. */
  bin?: string;
  /** Address to listen on [default: 127.0.0.1]. */
  host?: string;
  /** Port to listen on [default: 0, a free one the system picks]. */
  port?: number;
  /** A harness.toml (docs/configuration.md). */
  config?: string;
  /** `--issuer`: iss and discovery's issuer [default: the listening URL]. */
  issuer?: string;
  /** `--public-url`: the base of every endpoint URL [default: the listening URL]. */
  publicUrl?: string;
  /** More arguments for `oidc-harness serve`. */
  args?: string[];
  /** Environment for the server, over this process's. */
  env?: Record<string, string>;
  /** Working directory for the server. */
  cwd?: string;
  /** How long to wait for the ready file [default: 20000]. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL [default: 5000]. */
  stopTimeoutMs?: number;
}

/** A client registered with the provider (the mock's secrets are public). */
export interface Client {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  allow_loopback_redirects: boolean;
  /** e.g. `RSA-OAEP-256/A256GCM` when ID tokens are encrypted to this client. */
  encrypt_id_token: string | null;
  error_style: 'google' | 'platform';
}

/** `PUT /_harness/faults`: every member optional (docs/brands.md, "Faults on demand"). */
export interface Faults {
  /** ID token malformations by name: `iss-mismatch`, `aud-mismatch`, `sig-bitflip`, ... */
  mutate?: string[];
  token_response?:
    'http500' | 'html' | 'wrong-content-type' | 'invalid-json' | 'no-id-token' | 'slow' | null;
  redirect?: 'wrong-state' | 'no-code' | 'error' | 'inject-id-token' | null;
  jwks?:
    | 'bad-entry'
    | 'dup-kid'
    | 'use-enc'
    | 'weak-rsa'
    | 'absurd-rsa'
    | 'huge'
    | 'slow'
    | 'one-rsa-no-kid'
    | null;
  discovery_issuer?: string | null;
  userinfo_sub?: string | null;
  lapses?: string[];
  token?: Record<string, unknown> | null;
}

/** `POST /_harness/queue`: claims for the next ID token of one client or one persona. */
export type QueuedClaims =
  | { client: string; persona?: never; claims: Record<string, unknown> }
  | { persona: string; client?: never; claims: Record<string, unknown> };

/** A persona as `fixtures/personas.toml` has it. */
export interface Persona {
  id: string;
  sub: string;
  email?: string;
  name?: string;
  lp_sdes?: unknown[];
  [claim: string]: unknown;
}

/** The admin API (`/_harness/*`); each method rejects with an AdminError on a non-2xx answer. */
export interface Admin {
  /** Any admin route: `request('GET', '/_harness/state')`. */
  request(method: string, route: string, body?: unknown): Promise<any>;
  /** Replaces the faults in force; resolves to them as stored. */
  setFaults(faults: Faults): Promise<Required<Faults>>;
  faults(): Promise<Required<Faults>>;
  /** Back to honest behaviour. */
  clearFaults(): Promise<void>;
  /** Resolves to how many claim sets are waiting. */
  queueClaims(entry: QueuedClaims): Promise<{ waiting: number }>;
  queued(): Promise<QueuedClaims[]>;
  clearQueue(): Promise<void>;
  personas(): Promise<Persona[]>;
  putPersona(id: string, persona: Omit<Persona, 'id'> & { id?: string }): Promise<Persona>;
  deletePersona(id: string): Promise<void>;
  putClient(id: string, client: Record<string, unknown>): Promise<Record<string, unknown>>;
  deleteClient(id: string): Promise<void>;
  /** A new signing key signs from now on; the previous ones stay published. */
  rotateKeys(): Promise<{ kid: string; published: string[] }>;
  state(): Promise<Record<string, unknown>>;
}

export declare class AdminError extends Error {
  readonly status: number;
  /** The answer's JSON (`{error, error_description}`), or its text. */
  readonly body: unknown;
}

export interface Provider {
  /** The issuer (`iss`, discovery's `issuer`). */
  issuer: string;
  /** Where this server listens: `https://127.0.0.1:<port>`. */
  url: string;
  /** The base of every endpoint URL. */
  publicUrl: string;
  port: number;
  pid: number;
  /** Path of the CA certificate (PEM) the server's certificate chains to; null with --no-tls. */
  ca: string | null;
  /** The CA certificate's PEM text. */
  caPem: string | null;
  stateDir: string;
  /** discovery, authorization, token, userinfo, revocation, tokeninfo, jwks, ... */
  endpoints: Record<string, string>;
  clients: Client[];
  /** Ids of the personas that can sign in: alice, bob, zoe, dana, mallory. */
  personas: string[];
  admin: Admin;
  /** A fetch() that trusts the CA and never follows redirects (a 302 comes back as it is). */
  fetch: typeof globalThis.fetch;
  /** An https.Agent that trusts the CA, for libraries built on node:https. */
  agent: Agent;
  /** What the server printed so far (the last 64 KiB). */
  output(): string;
  /** SIGTERM, then SIGKILL after stopTimeoutMs; removes the state directory. */
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

/** Starts `oidc-harness serve` on a free loopback port; resolves once it answers. */
export declare function startProvider(options?: StartOptions): Promise<Provider>;

/** The binary startProvider() runs (OIDC_HARNESS_BIN, else the platform package's). */
export declare function binaryPath(): string;

declare const helper: {
  startProvider: typeof startProvider;
  binaryPath: typeof binaryPath;
  AdminError: typeof AdminError;
};
export default helper;
