'use strict';
// The brand's own code on its page: its sign-in at its identity provider, what it pushes to the
// platform's tag, and the method the platform's chat window calls (liveperson-auth.md §1.5):
//
//   lpGetAuthenticationToken(callback[, code_challenge]), also as brand.auth.getToken
//
// which answers callback(idToken), callback({ssoKey: code, redirect_uri}), or
// callback('', error). Codes and tokens for the platform come from the provider silently
// (prompt=none in a hidden frame), from the session the consumer's sign-in left there.
(function () {
  const $ = (id) => document.getElementById(id);
  const config = $('brand').dataset;
  // This page, whichever brand's it is (/demo/brand, /demo/brands/<name>).
  const home = location.origin + location.pathname;
  const silentUri = location.origin + '/demo/brand/silent';

  function random() {
    const bytes = crypto.getRandomValues(new Uint8Array(18));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
  }

  // The brand reads its own ID token for its own page; the platform verifies what it gets.
  function claimsOf(jwt) {
    const payload = (jwt.split('.')[1] || '').replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function user() {
    try {
      return JSON.parse(sessionStorage.getItem('brand.user'));
    } catch (_) {
      return null;
    }
  }

  function showUser(message) {
    const u = user();
    const line = $('signed-in-as');
    line.textContent = message || (u ? 'Signed in as ' + u.name + ' (sub ' + u.sub + ').' : 'Not signed in.');
    line.dataset.signedIn = u ? 'yes' : 'no';
    $('sign-in').hidden = !!u;
    $('sign-out').hidden = !u;
  }

  function signIn() {
    const pending = { state: random(), nonce: random() };
    sessionStorage.setItem('brand.signin', JSON.stringify(pending));
    const query = new URLSearchParams({
      client_id: config.client,
      redirect_uri: home,
      response_type: 'id_token',
      scope: 'openid email profile',
      state: pending.state,
      nonce: pending.nonce,
    });
    location.assign(config.authorize + '?' + query);
  }

  // Back from the provider: the answer is in the fragment. Returns a message to show, if any.
  function finishSignIn() {
    if (location.hash.length < 2) return null;
    const answer = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, '', home);
    const pending = JSON.parse(sessionStorage.getItem('brand.signin') || 'null');
    sessionStorage.removeItem('brand.signin');
    if (!pending || answer.get('state') !== pending.state) return 'Sign-in answer ignored: its state is not ours.';
    if (answer.get('error')) return 'Sign-in failed: ' + answer.get('error') + '.';
    try {
      const claims = claimsOf(answer.get('id_token') || '');
      if (claims.nonce !== pending.nonce) return 'Sign-in answer ignored: its nonce is not ours.';
      const name = claims.name || claims.email || claims.sub;
      sessionStorage.setItem('brand.user', JSON.stringify({ iss: claims.iss, sub: claims.sub, name }));
    } catch (err) {
      return 'Sign-in failed: the ID token could not be read.';
    }
    return null;
  }

  // A request to the provider in a hidden frame; resolves with the answer's parameters.
  function silently(url, state) {
    return new Promise((resolve, reject) => {
      const frame = document.createElement('iframe');
      frame.hidden = true;
      const timer = setTimeout(() => finish(reject, new Error('no answer from the provider')), 10000);
      function onMessage(event) {
        if (event.origin !== location.origin || event.source !== frame.contentWindow) return;
        const answer = new URLSearchParams(String(event.data));
        if (answer.get('state') !== state) return;
        finish(resolve, answer);
      }
      function finish(settle, value) {
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
        frame.remove();
        settle(value);
      }
      window.addEventListener('message', onMessage);
      frame.src = url;
      document.body.appendChild(frame);
    });
  }

  // For the demo's "corrupted copy": one character changed well inside the last segment
  // (the signature, the JWE tag, or the code).
  function corrupt(text) {
    const at = Math.min(text.lastIndexOf('.') + 10, text.length - 1);
    if (at < 0) return text;
    return text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  }

  const choice = () => ({
    flow: $('flow').value,
    encrypted: $('encryption').value === 'encrypted',
    mode: $('mode').value,
    tamper: $('tamper').value === 'corrupt' ? corrupt : (t) => t,
  });

  function getAuthenticationToken(callback, codeChallenge) {
    if (!user()) {
      callback('', 'the consumer is not signed in');
      return;
    }
    const { flow, encrypted, tamper } = choice();
    const state = random();
    const params = {
      client_id: encrypted ? config.encryptedClient : config.client,
      redirect_uri: silentUri,
      scope: 'openid email profile',
      prompt: 'none',
      state,
    };
    if (flow === 'code') {
      params.response_type = 'code';
      if (codeChallenge) {
        params.code_challenge = codeChallenge;
        params.code_challenge_method = 'S256';
      }
    } else {
      params.response_type = 'id_token';
      params.nonce = random();
    }
    silently(config.authorize + '?' + new URLSearchParams(params), state).then(
      (answer) => {
        if (answer.get('error')) callback('', answer.get('error'));
        else if (flow === 'code') callback({ ssoKey: tamper(answer.get('code') || ''), redirect_uri: silentUri });
        else callback(tamper(answer.get('id_token') || ''));
      },
      (err) => callback('', err.message),
    );
  }

  // The method where the platform looks by default, and the same method on a namespace object,
  // as the platform's examples put it (liveperson-auth.md §1.5, §8.5). That one reaches its
  // helper through `this`, so it works only when called with `this` = brand.auth, as the
  // platform calls a method on its JS Context.
  window.lpGetAuthenticationToken = getAuthenticationToken;
  window.brand = {
    auth: {
      tokenFor: getAuthenticationToken,
      getToken(callback, codeChallenge) {
        return this.tokenFor(callback, codeChallenge);
      },
    },
  };

  // The identity function (liveperson-auth.md §1.5, §4.5): who is signed in here, as the
  // brand's sign-in said, or null for nobody. The select can make the page say another issuer
  // or level, or take the function away, to see what the platform makes of it.
  function identityFn(callback) {
    const u = user();
    if (!u) {
      callback(null);
      return;
    }
    const identity = { iss: u.iss, acr: 'loa1', sub: u.sub };
    if ($('identity').value === 'other-iss') identity.iss = 'https://accounts.wonderland.example';
    if ($('identity').value === 'other-acr') identity.acr = 'loa2';
    callback(identity);
  }
  lpTag.identities = lpTag.identities || [];

  // The connector's "JS Method Name" and "JS Context", as the select names them.
  const METHODS = {
    default: { methodName: 'lpGetAuthenticationToken' },
    dotted: { methodName: 'brand.auth.getToken' },
    context: { methodName: 'getToken', methodContext: 'brand.auth' },
    missing: { methodName: 'brand.chat.getToken' },
  };

  $('sign-in').addEventListener('click', signIn);
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('brand.user');
    showUser();
  });
  $('flow').addEventListener('change', () => {
    $('pkce').disabled = $('flow').value !== 'code';
  });
  $('chat').addEventListener('click', () => {
    let sdes;
    try {
      sdes = JSON.parse($('page-sdes').value.trim() || '[]');
    } catch (err) {
      lpTag.window.renderError('what the page pushes is not JSON: ' + err.message);
      return;
    }
    lpTag.sdes.push(sdes);
    lpTag.identities = $('identity').value === 'none' ? [] : [identityFn];
    const { mode, flow, encrypted } = choice();
    const method = METHODS[$('method').value] || METHODS.default;
    lpTag.startChat(
      Object.assign({ mode, flow, encrypted, pkce: $('pkce').value === 'on', brand: config.brand || undefined }, method),
    );
  });
  showUser(finishSignIn());
})();
