'use strict';
// startProvider(): a mock provider of its own for a test file, on a free loopback port with a
// temporary state directory, stopped by stop() or when the process exits.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const http = require('node:http');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { binaryPath } = require('./lib/binary.cjs');

/** What the server printed, kept for error messages (the last 64 KiB). */
const OUTPUT_LIMIT = 64 * 1024;

/** Servers still running, killed if the process exits without stopping them. */
const running = new Set();
let exitHookInstalled = false;

function killAll() {
  for (const server of running) server.killNow();
  running.clear();
}

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAll);
  // A signal that would end the process ends the servers too, then the process as before.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, function onSignal() {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** A fetch() that trusts `ca` (a PEM) over HTTPS, never follows redirects, and needs no module. */
function caFetch(agent) {
  return async function fetch(input, init = {}) {
    let url;
    let method = init.method;
    let headers = new Headers(init.headers);
    let body = init.body;
    if (typeof Request !== 'undefined' && input instanceof Request) {
      url = new URL(input.url);
      method = method || input.method;
      if (init.headers === undefined) headers = new Headers(input.headers);
      if (body === undefined && input.body !== null) body = Buffer.from(await input.arrayBuffer());
    } else {
      url = new URL(String(input));
    }
    method = (method || 'GET').toUpperCase();
    if (body instanceof URLSearchParams) {
      if (!headers.has('content-type')) {
        headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
      }
      body = body.toString();
    } else if (typeof body === 'string') {
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain;charset=UTF-8');
    } else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      body = Buffer.from(body.buffer || body, body.byteOffset || 0, body.byteLength);
    } else if (body !== undefined && body !== null) {
      throw new TypeError('fetch: the body must be a string, URLSearchParams or bytes');
    }
    const secure = url.protocol === 'https:';
    const transport = secure ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(
        url,
        {
          method,
          headers: Object.fromEntries(headers),
          agent: secure ? agent : undefined,
          signal: init.signal || undefined,
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const answer = new Headers();
            const raw = response.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2) answer.append(raw[i], raw[i + 1]);
            const status = response.statusCode;
            const empty = method === 'HEAD' || [101, 204, 205, 304].includes(status);
            const result = new Response(empty ? null : Buffer.concat(chunks), {
              status,
              statusText: response.statusMessage,
              headers: answer,
            });
            Object.defineProperty(result, 'url', { value: url.href });
            resolve(result);
          });
        },
      );
      request.on('error', reject);
      request.end(body == null ? undefined : body);
    });
  };
}

/** An admin API answer that is not a success. */
class AdminError extends Error {
  constructor(method, route, status, body) {
    const detail =
      body && typeof body === 'object' && body.error
        ? `${body.error}: ${body.error_description}`
        : String(body);
    super(`${method} ${route}: HTTP ${status}: ${detail}`);
    this.name = 'AdminError';
    this.status = status;
    this.body = body;
  }
}

/** The routes under /_harness (docs/brands.md, "The admin API"). */
function adminApi(base, fetch) {
  async function request(method, route, body) {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!response.ok) throw new AdminError(method, route, response.status, parsed);
    return parsed;
  }
  const named = (id) => encodeURIComponent(id);
  return {
    request,
    setFaults: (faults) => request('PUT', '/_harness/faults', faults),
    faults: () => request('GET', '/_harness/faults'),
    clearFaults: () => request('DELETE', '/_harness/faults').then(() => undefined),
    queueClaims: (entry) => request('POST', '/_harness/queue', entry),
    queued: () => request('GET', '/_harness/queue').then((answer) => answer.queued),
    clearQueue: () => request('DELETE', '/_harness/queue').then(() => undefined),
    personas: () => request('GET', '/_harness/personas').then((answer) => answer.personas),
    putPersona: (id, persona) => request('PUT', `/_harness/personas/${named(id)}`, persona),
    deletePersona: (id) =>
      request('DELETE', `/_harness/personas/${named(id)}`).then(() => undefined),
    putClient: (id, client) => request('PUT', `/_harness/clients/${named(id)}`, client),
    deleteClient: (id) => request('DELETE', `/_harness/clients/${named(id)}`).then(() => undefined),
    rotateKeys: () => request('POST', '/_harness/keys/rotate'),
    state: () => request('GET', '/_harness/state'),
  };
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function startProvider(options = {}) {
  const bin = options.bin || binaryPath();
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'oidc-harness-'));
  const readyFile = path.join(stateDir, 'ready.json');
  const args = [
    'serve',
    '--addr',
    `${options.host || '127.0.0.1'}:${options.port || 0}`,
    '--state-dir',
    stateDir,
    '--ready-file',
    readyFile,
  ];
  if (options.config) args.push('--config', path.resolve(options.config));
  if (options.issuer) args.push('--issuer', options.issuer);
  if (options.publicUrl) args.push('--public-url', options.publicUrl);
  args.push(...(options.args || []));

  const child = spawn(bin, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ error }));
  });
  let gone = false;
  exited.then(() => {
    gone = true;
  });

  const server = {
    killNow() {
      if (!gone) child.kill('SIGKILL');
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
  running.add(server);
  installExitHook();

  const timeoutMs = options.startTimeoutMs || 20000;
  const deadline = Date.now() + timeoutMs;
  const failure = async (why) => {
    running.delete(server);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
    await fsp.rm(stateDir, { recursive: true, force: true });
    const printed = output.trim();
    return new Error(
      `oidc-harness serve ${why}` +
        (printed ? `; it printed:\n${printed}` : ' and printed nothing'),
    );
  };
  let ready;
  for (;;) {
    if (gone) {
      const end = await exited;
      throw await failure(
        end.error
          ? `could not start (${bin}): ${end.error.message}`
          : `exited (${end.signal || `code ${end.code}`}) before it was ready`,
      );
    }
    try {
      ready = JSON.parse(await fsp.readFile(readyFile, 'utf8'));
      break;
    } catch (err) {
      if (err.code !== 'ENOENT')
        throw await failure(`wrote an unreadable ready file: ${err.message}`);
    }
    if (Date.now() > deadline) throw await failure(`was not ready after ${timeoutMs} ms`);
    await Promise.race([delay(10), exited]);
  }

  // Started: the server no longer keeps the process alive; stop() or the exit hook ends it.
  child.unref();
  child.stdout.unref?.();
  child.stderr.unref?.();

  const caPem = ready.ca ? await fsp.readFile(ready.ca, 'utf8') : null;
  const agent = new https.Agent(caPem ? { ca: caPem } : {});
  const fetch = caFetch(agent);
  const url = `${ready.ca ? 'https' : 'http'}://${ready.addr}`;

  let stopping;
  const stop = () => {
    stopping ||= (async () => {
      running.delete(server);
      if (!gone) {
        child.ref();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs || 5000);
        await exited;
        clearTimeout(timer);
      }
      agent.destroy();
      await fsp.rm(stateDir, { recursive: true, force: true });
      const end = await exited;
      return { code: end.code ?? null, signal: end.signal ?? null };
    })();
    return stopping;
  };

  let overview;
  try {
    const answer = await fetch(`${url}/?format=json`);
    if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
    overview = await answer.json();
  } catch (err) {
    await stop();
    throw new Error(`oidc-harness serve: GET ${url}/?format=json failed: ${err.message}`);
  }
  const described = new Map(overview.clients.map((c) => [c.client_id, c]));
  const clients = ready.clients.map((c) => ({ ...described.get(c.client_id), ...c }));

  const provider = {
    issuer: ready.issuer,
    url,
    publicUrl: ready.public_url,
    port: ready.port,
    pid: ready.pid,
    ca: ready.ca,
    caPem,
    stateDir,
    endpoints: ready.endpoints,
    clients,
    personas: overview.personas,
    admin: adminApi(url, fetch),
    fetch,
    agent,
    output: () => output,
    stop,
  };
  if (Symbol.asyncDispose) provider[Symbol.asyncDispose] = stop;
  return provider;
}

module.exports = { startProvider, binaryPath, AdminError };
