// The npm packages as a project installs them: the launcher on PATH, startProvider(), and a
// code flow by openid-client against it. Run with `node --test` in a project that installed
// the two tarballs and openid-client (.ci/npm does).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import * as client from 'openid-client';
import { startProvider } from 'oidc-harness';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const version = require('oidc-harness/package.json').version;
const launcher = path.resolve('node_modules/.bin/oidc-harness');
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const ALICE_SUB = '110169484474386276334';
// A bound for tests that wait for a process to end, so that one that never does fails alone.
const PROCESS_TIMEOUT = 20000;

/** Whether process `pid` has ended (a zombie not yet reaped counts as ended). */
function ended(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code === 'ESRCH') return true;
    throw err;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

/** Cleans up after a failed test: kills `pid` if it still runs. */
function killIfRunning(pid) {
  if (!ended(pid)) process.kill(pid, 'SIGKILL');
}

/** Waits until `check()` holds, for at most 10 s (a bound, not a measurement); returns it. */
async function until(check) {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
}

/** Waits until `file` exists, then reads it as JSON. */
async function readWhenWritten(file) {
  await until(() => fs.existsSync(file));
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** An executable shell script standing in for the binary, removed after test `t`. */
function fakeServer(t, body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-harness-fake-'));
  t.after(() => fs.rmSync(dir, { recursive: true }));
  const file = path.join(dir, 'oidc-harness');
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** What a browser sends for a form: its inputs, its checked boxes, its textarea, its button. */
function formFields(form, button) {
  const decode = (text) =>
    text
      .replace(/&#(\d+);/g, (_, code) => String.fromCodePoint(Number(code)))
      .replace(/&#x([0-9a-f]+);/gi, (_, code) => String.fromCodePoint(parseInt(code, 16)))
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  const attr = (tag, name) => {
    const found = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
    return found && decode(found[1]);
  };
  const fields = new URLSearchParams();
  for (const [tag] of form.matchAll(/<input\b[^>]*>/g)) {
    const type = attr(tag, 'type') || 'text';
    if (type === 'checkbox' && !/\schecked\b/.test(tag)) continue;
    fields.append(
      attr(tag, 'name'),
      type === 'checkbox' ? (attr(tag, 'value') ?? 'on') : (attr(tag, 'value') ?? ''),
    );
  }
  for (const [, name, text] of form.matchAll(
    /<textarea\b[^>]*name="([^"]*)"[^>]*>([\s\S]*?)<\/textarea>/g,
  )) {
    fields.append(name, decode(text));
  }
  fields.append('action', button);
  return fields;
}

/** Signs `persona` in at the provider's login page, as a person pressing Continue would. */
async function signInAtLoginPage(provider, authorizationUrl, persona) {
  const page = await provider.fetch(authorizationUrl);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  const html = await page.text();
  const section = html.split('<details').find((part) => part.includes(` id="persona-${persona}"`));
  const form = section && /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(section);
  assert.ok(form, `the login page has a form for ${persona}`);
  const fields = formFields(form[2], 'allow');
  assert.equal(fields.get('persona'), persona);
  const answer = await provider.fetch(new URL(form[1], provider.url), {
    method: 'POST',
    body: fields,
  });
  assert.equal(answer.status, 302, await answer.clone().text());
  return new URL(answer.headers.get('location'));
}

/** A whole code flow with PKCE, state and nonce; resolves to what authorizationCodeGrant does. */
async function codeFlow(provider, config, persona = 'alice') {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await signInAtLoginPage(provider, authorizationUrl, persona);
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  assert.equal(callback.searchParams.get('state'), state);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
}

describe('the oidc-harness command', () => {
  test('runs the platform binary with its arguments and exit code', async () => {
    const { stdout } = await run(launcher, ['--version']);
    assert.equal(stdout, `oidc-harness ${version}\n`);
    await assert.rejects(run(launcher, ['serve', '--addr', 'nowhere']), (err) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /invalid value 'nowhere' for '--addr <ADDR>'/);
      return true;
    });
  });

  test(
    'passes SIGTERM on to the server and exits as it does',
    { timeout: PROCESS_TIMEOUT },
    async (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oidc-harness-serve-'));
      const ready = path.join(dir, 'ready.json');
      const args = ['serve', '--addr', '127.0.0.1:0', '--state-dir', dir, '--ready-file', ready];
      const command = execFile(launcher, args);
      const exit = new Promise((resolve) =>
        command.on('exit', (code, signal) => resolve({ code, signal })),
      );
      let server;
      t.after(() => {
        command.kill('SIGKILL');
        if (server) killIfRunning(server);
        fs.rmSync(dir, { recursive: true });
      });
      const { pid, ca, addr } = await readWhenWritten(ready);
      server = pid;
      assert.notEqual(server, command.pid, 'the server is the binary, a child of the launcher');
      // Once it answers, the server has its SIGTERM handler (it is set up after the ready file).
      const health = await new Promise((resolve, reject) => {
        https
          .get(`https://${addr}/healthz`, { ca: fs.readFileSync(ca) }, (res) => {
            res.resume().on('end', () => resolve(res.statusCode));
          })
          .on('error', reject);
      });
      assert.equal(health, 200);
      command.kill('SIGTERM');
      assert.deepEqual(await exit, { code: 0, signal: null });
      assert.ok(ended(server), 'the server ended with the launcher');
    },
  );

  test('OIDC_HARNESS_BIN overrides the binary', async (t) => {
    const fake = fakeServer(t, 'echo "fake $*"; exit 7');
    await assert.rejects(
      run(launcher, ['a', 'b c'], { env: { ...process.env, OIDC_HARNESS_BIN: fake } }),
      (err) => {
        assert.equal(err.code, 7);
        assert.equal(err.stdout, 'fake a b c\n');
        return true;
      },
    );
  });
});

describe('startProvider', () => {
  let provider;
  let config;
  before(async () => {
    provider = await startProvider();
    const demo = provider.clients.find((c) => c.client_id === 'demo-client');
    config = await client.discovery(
      new URL(provider.issuer),
      demo.client_id,
      demo.client_secret,
      client.ClientSecretBasic(demo.client_secret),
      { [client.customFetch]: provider.fetch, execute: [client.enableNonRepudiationChecks] },
    );
  });
  after(() => provider?.stop());

  test('says where the provider is and who can sign in', async () => {
    assert.match(provider.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(provider.url, provider.issuer);
    assert.equal(provider.endpoints.token, `${provider.issuer}/token`);
    assert.match(fs.readFileSync(provider.ca, 'utf8'), /^-----BEGIN CERTIFICATE-----/);
    assert.deepEqual(provider.personas, ['alice', 'bob', 'zoe', 'dana', 'mallory']);
    const demo = provider.clients.find((c) => c.client_id === 'demo-client');
    assert.equal(demo.client_secret, 'demo-secret');
    assert.equal(demo.allow_loopback_redirects, true);
    const health = await provider.fetch(`${provider.url}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(config.serverMetadata().issuer, provider.issuer);
  });

  test('a code flow signs alice in, her ID token validated by openid-client', async () => {
    const tokens = await codeFlow(provider, config);
    assert.equal(tokens.token_type, 'bearer');
    const claims = tokens.claims();
    assert.equal(claims.iss, provider.issuer);
    assert.equal(claims.aud, 'demo-client');
    assert.equal(claims.sub, ALICE_SUB);
    assert.equal(claims.email, 'alice.liddell@example.com');
    assert.equal(claims.name, 'Alice Liddell');
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(info.email, 'alice.liddell@example.com');
  });

  test('claims queued through the admin API go into the next ID token only', async () => {
    assert.deepEqual(
      await provider.admin.queueClaims({ persona: 'bob', claims: { acr: 'urn:example:mfa' } }),
      { waiting: 1 },
    );
    const first = (await codeFlow(provider, config, 'bob')).claims();
    assert.equal(first.acr, 'urn:example:mfa');
    assert.equal(first.name, 'Bob Stone');
    const second = (await codeFlow(provider, config, 'bob')).claims();
    assert.equal(second.acr, undefined);
  });

  test('a wrong iss set through the admin API is refused by openid-client', async (t) => {
    t.after(() => provider.admin.clearFaults());
    const stored = await provider.admin.setFaults({ mutate: ['iss-mismatch'] });
    assert.deepEqual(stored.mutate, ['iss-mismatch']);
    await assert.rejects(codeFlow(provider, config), (err) => {
      assert.equal(err.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED');
      assert.equal(err.cause.message, 'unexpected JWT "iss" (issuer) claim value');
      assert.equal(err.cause.cause.claim, 'iss');
      assert.equal(err.cause.cause.expected, provider.issuer);
      assert.equal(err.cause.cause.claims.iss, `${provider.issuer}1`);
      return true;
    });
  });

  test('a broken signature is refused once openid-client checks signatures', async (t) => {
    t.after(() => provider.admin.clearFaults());
    await provider.admin.setFaults({ mutate: ['sig-bitflip'] });
    await assert.rejects(codeFlow(provider, config), (err) => {
      assert.equal(err.code, 'OAUTH_INVALID_RESPONSE');
      assert.equal(err.cause.message, 'JWT signature verification failed');
      return true;
    });
    // Without enableNonRepudiationChecks openid-client trusts TLS for the token endpoint's
    // answer (OpenID Connect Core 3.1.3.7) and takes the same token.
    const trusting = await client.discovery(
      new URL(provider.issuer),
      'demo-client',
      'demo-secret',
      undefined,
      { [client.customFetch]: provider.fetch },
    );
    assert.equal((await codeFlow(provider, trusting)).claims().sub, ALICE_SUB);
    await provider.admin.clearFaults();
    assert.deepEqual((await provider.admin.faults()).mutate, []);
    assert.equal((await codeFlow(provider, config)).claims().sub, ALICE_SUB);
  });

  test('the admin API refuses a fault it does not know, naming it', async () => {
    await assert.rejects(provider.admin.setFaults({ mutate: ['no-such-fault'] }), (err) => {
      assert.equal(err.name, 'AdminError');
      assert.equal(err.status, 400);
      assert.equal(err.body.error, 'invalid_request');
      assert.match(err.body.error_description, /unknown variant `no-such-fault`/);
      return true;
    });
  });
});

describe('startProvider and stop', () => {
  test('stop() ends the server and removes its state directory', async () => {
    const provider = await startProvider();
    assert.ok(fs.existsSync(provider.stateDir));
    assert.deepEqual(await provider.stop(), { code: 0, signal: null });
    assert.equal(fs.existsSync(provider.stateDir), false);
    await assert.rejects(provider.fetch(`${provider.url}/healthz`), { code: 'ECONNREFUSED' });
    assert.equal(await provider.stop().then((end) => end.code), 0, 'stop() twice is harmless');
  });

  test(
    'a server left running ends with the process that started it',
    { timeout: PROCESS_TIMEOUT },
    async (t) => {
      const script =
        "const p = await (await import('oidc-harness')).startProvider();" +
        'console.log(JSON.stringify({ pid: p.pid, stateDir: p.stateDir }));';
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
      const { pid, stateDir } = JSON.parse(stdout);
      t.after(() => killIfRunning(pid));
      assert.ok(await until(() => ended(pid)), `server ${pid} still running`);
      assert.equal(fs.existsSync(stateDir), false);
    },
  );

  test('a server that cannot start is an error with what it printed', async () => {
    await assert.rejects(startProvider({ config: '/nonexistent/harness.toml' }), (err) => {
      assert.match(
        err.message,
        /^oidc-harness serve exited \(code 2\) before it was ready; it printed:\n/,
      );
      assert.match(err.message, /\nerror: \/nonexistent\/harness\.toml: No such file or directory/);
      return true;
    });
  });

  test('a binary that is missing or never ready is an error saying so', async (t) => {
    await assert.rejects(startProvider({ bin: '/nonexistent/oidc-harness' }), {
      message:
        'oidc-harness serve could not start (/nonexistent/oidc-harness): ' +
        'spawn /nonexistent/oidc-harness ENOENT and printed nothing',
    });
    const silent = fakeServer(t, 'echo "booting $1"; exec sleep 30');
    await assert.rejects(startProvider({ bin: silent, startTimeoutMs: 200 }), {
      message: 'oidc-harness serve was not ready after 200 ms; it printed:\nbooting serve',
    });
  });

  test('stop() kills a server that ignores SIGTERM', async (t) => {
    // Plain HTTP, a ready file and the overview: what startProvider() reads.
    const stubborn = fakeServer(
      t,
      `exec "${process.execPath}" -e '
        const http = require("node:http");
        const ready = process.argv[process.argv.indexOf("--ready-file") + 1];
        process.on("SIGTERM", () => console.log("SIGTERM ignored"));
        http.createServer((req, res) => res.end(JSON.stringify({ clients: [], personas: ["x"] })))
          .listen(0, "127.0.0.1", function () {
            const addr = "127.0.0.1:" + this.address().port;
            require("node:fs").writeFileSync(ready, JSON.stringify({
              issuer: "http://" + addr, addr, port: this.address().port, ca: null, clients: [],
            }));
          });
      ' -- "$@"`,
    );
    const provider = await startProvider({ bin: stubborn, stopTimeoutMs: 300 });
    assert.equal(provider.url, provider.issuer);
    assert.deepEqual(provider.personas, ['x']);
    assert.equal(provider.ca, null);
    assert.deepEqual(await provider.stop(), { code: null, signal: 'SIGKILL' });
    assert.equal(provider.output(), 'SIGTERM ignored\n');
  });

  test('the CommonJS entry is the same helper', () => {
    const cjs = require('oidc-harness');
    assert.equal(typeof cjs.startProvider, 'function');
    assert.equal(cjs.startProvider, startProvider);
  });
});
