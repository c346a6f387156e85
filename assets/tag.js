'use strict';
// The platform's tag, as a brand's page loads it (liveperson-auth.md §1.4, §1.5, §4.3, §4.4):
// lpTag.sdes.push for what the page says on its own (never verified), lpTag.identities for
// who the page says the visitor is (never verified either), and the chat window,
// which either asks the page's lpGetAuthenticationToken for a code or an ID token (embedded)
// or sends the consumer to the provider's authorization endpoint in a popup.
(function () {
  const lpTag = (window.lpTag = window.lpTag || {});

  // What the page pushed. A later SDE of a type replaces the earlier one.
  const pushed = [];
  lpTag.sdes = {
    push(sdes) {
      for (const sde of [].concat(sdes)) {
        if (!sde || typeof sde !== 'object') continue;
        const same = pushed.findIndex((s) => s.type === sde.type);
        if (same >= 0) pushed.splice(same, 1);
        pushed.push(sde);
      }
    },
    get() {
      return pushed.slice();
    },
  };

  // The page's identity functions (liveperson-auth.md §1.5, §4.5): the page does
  // `lpTag.identities.push(fn)`, and fn(callback) calls back {iss, acr: 'loa1', sub}, or null
  // where nobody is signed in. It identifies the visitor; it does not authenticate anyone.
  lpTag.identities = lpTag.identities || [];

  // Calls one identity function; resolves with what it called back, or null when it throws
  // or says nothing within a second.
  function callIdentity(fn) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000);
      const callback = (identity) => {
        clearTimeout(timer);
        resolve(identity === undefined ? null : identity);
      };
      try {
        fn(callback);
      } catch (_) {
        callback(null);
      }
    });
  }

  // The visitor's identity: the first of the page's identity functions to call back something
  // other than null, or null (none, or nobody signed in). The platform checks its shape.
  async function askIdentity() {
    for (const fn of [].concat(lpTag.identities)) {
      if (typeof fn !== 'function') continue;
      const identity = await callIdentity(fn);
      if (identity !== null) return identity;
    }
    return null;
  }

  // POSTs `body` (or {}) as JSON; resolves with the JSON answer, throws the API's error.
  async function api(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body === undefined ? {} : body),
    });
    const json = await response.json().catch(() => ({}));
    if (response.ok) return json;
    // The platform's answer when a code or token does not validate (§4.3): no reason is given,
    // and the consumer is offered the offline survey.
    if (response.status === 401 && json.error && json.error.internalCode === 10) {
      const failed = new Error(json.error.message);
      failed.rejected = true;
      failed.conversation = response.headers.get('x-harness-conversation');
      throw failed;
    }
    const message = typeof json.error === 'string' ? json.error : json.error && json.error.message;
    throw new Error(json.error_description || message || 'HTTP ' + response.status);
  }

  const MESSAGES = {
    pending: 'Connecting you to an agent…',
    authenticated: "You're chatting with us as a signed-in customer. An agent will be with you shortly.",
    expired: 'Your session expired. Asking for a fresh sign-in…',
    rejected: "We can't start a secure conversation right now. Please leave us a message and we'll get back to you.",
  };

  const $ = (id) => document.getElementById(id);

  // Shows a conversation in the window: the embedded panel, or the popup's page.
  function render(view, note) {
    const window_ = $('lp-window');
    window_.hidden = false;
    window_.dataset.status = view.status;
    window_.dataset.conversation = view.id;
    const survey = $('lp-offline-survey');
    if (survey && view.status !== 'rejected') survey.hidden = true;
    $('lp-status').textContent = note || MESSAGES[view.status] || view.status;
    $('lp-detail').textContent = view.status === 'authenticated' ? 'Signed in as customer ' + view.sub + '.' : '';
    const link = $('lp-workspace');
    link.href = view.workspace_url;
    link.hidden = false;
  }

  // A failed validation: what the consumer sees is the offline survey (§4.3).
  function renderRejected(conversation) {
    render({ id: conversation, status: 'rejected', workspace_url: '/platform/agent/' + encodeURIComponent(conversation) });
    const survey = $('lp-offline-survey');
    if (!survey) return;
    survey.hidden = false;
    survey.onsubmit = (event) => {
      event.preventDefault();
      survey.hidden = true;
      $('lp-detail').textContent = 'Thank you. We will get back to you.';
    };
  }

  // Shows what a failed call means: the offline survey for a failed validation, an error
  // otherwise.
  function renderFailure(err, conversation) {
    if (err && err.rejected) renderRejected(err.conversation || conversation);
    else renderError(err && err.message ? err.message : String(err));
  }

  function renderError(message) {
    const window_ = $('lp-window');
    window_.hidden = false;
    window_.dataset.status = 'error';
    $('lp-status').textContent = 'The chat is unavailable: ' + message;
    $('lp-detail').textContent = '';
  }

  // Calls back when the token expires (§4.4: the window then asks for a fresh one).
  let expiryTimer = null;
  function watchExpiry(view, onExpired) {
    clearTimeout(expiryTimer);
    if (view.status === 'authenticated' && typeof view.expires_in_secs === 'number') {
      expiryTimer = setTimeout(onExpired, view.expires_in_secs * 1000 + 250);
    } else if (view.status === 'expired') {
      // Verified within the clock leeway but already past exp: ask again, without hurrying.
      expiryTimer = setTimeout(onExpired, 5000);
    }
  }

  // What a value is, for messages: `undefined`, `null`, `a string`, `an object`, ...
  function kind(value) {
    if (value === null || value === undefined) return String(value);
    const type = typeof value;
    return (/^[aeiou]/.test(type) ? 'an ' : 'a ') + type;
  }

  const isObject = (value) => value !== null && (typeof value === 'object' || typeof value === 'function');

  // Follows a dotted path (`brand.auth.getToken`) from `from`, called `fromName` in messages.
  // Answers {value, parent, reached} or {error} naming the first segment that is missing.
  function walk(path, from, fromName) {
    if (typeof path !== 'string' || !/^[^.\s]+(\.[^.\s]+)*$/.test(path)) {
      return { error: JSON.stringify(String(path)) + ' is not a dotted path of names' };
    }
    const join = (a, b) => (a ? a + '.' + b : b);
    const segments = path.split('.');
    let value = from;
    let parent = from;
    let reached = fromName;
    for (let i = 0; i < segments.length; i++) {
      parent = value;
      try {
        value = value[segments[i]];
      } catch (err) {
        return { error: 'reading ' + join(reached, segments[i]) + ' threw ' + String(err) };
      }
      reached = join(reached, segments[i]);
      if (i < segments.length - 1 && !isObject(value)) return { error: reached + ' is ' + kind(value) };
    }
    return { value, parent, reached };
  }

  // The connector's "JS Method Name" and "JS Context" (liveperson-auth.md §1.5, §8.5): the
  // method is a dotted path from the page's global scope, or from the context (a dotted path
  // too, or an object) when there is one. It is called with `this` set to the context, or to
  // the object it was found on. Answers {method, self, label} or {error}.
  function findMethod(methodName, methodContext) {
    let base = window;
    let baseName = '';
    if (methodContext !== undefined && methodContext !== null && methodContext !== '') {
      if (typeof methodContext === 'string') {
        const context = walk(methodContext, window, '');
        const what = 'the JS context "' + methodContext + '"';
        if (context.error) return { error: what + ' cannot be found on the page: ' + context.error };
        if (!isObject(context.value)) {
          const why = context.reached + ' is ' + kind(context.value);
          return { error: what + (context.value === undefined ? ' cannot be found on the page: ' : ' is not an object: ') + why };
        }
        base = context.value;
        baseName = methodContext;
      } else if (isObject(methodContext)) {
        base = methodContext;
        baseName = '(JS Context)';
      } else {
        return { error: 'the JS context is ' + kind(methodContext) + ': name an object, or give one' };
      }
    }
    const label = baseName ? methodName + ' (JS Context ' + baseName + ')' : methodName;
    const what = 'the JS method "' + label + '"';
    const found = walk(methodName, base, baseName);
    if (found.error) return { error: what + ' cannot be found on the page: ' + found.error };
    if (found.value === undefined) return { error: what + ' cannot be found on the page: ' + found.reached + ' is undefined' };
    if (typeof found.value !== 'function') {
      return { error: what + ' is not a function: ' + found.reached + ' is ' + kind(found.value) };
    }
    return { method: found.value, self: base === window ? found.parent : base, label };
  }

  // The page's method, called as the platform calls it: fn(callback[, code_challenge]).
  // Resolves with {token, error} as the page called back, or {methodError} when the window
  // could not call it (not found, not a function, or it threw).
  function askPage(methodName, methodContext, request) {
    return new Promise((resolve) => {
      const found = findMethod(methodName, methodContext);
      if (found.error) {
        resolve({ methodError: found.error });
        return;
      }
      let answered = false;
      const callback = (token, error) => {
        if (answered) return;
        answered = true;
        resolve({ token, error });
      };
      try {
        if (request.code_challenge) found.method.call(found.self, callback, request.code_challenge);
        else found.method.call(found.self, callback);
      } catch (err) {
        if (answered) return;
        answered = true;
        resolve({ methodError: 'the JS method "' + found.label + '" threw ' + String(err) });
      }
    });
  }

  // Any value but null and undefined is an error (§1.5); the platform gets it as text.
  function errorText(error) {
    if (error === undefined || error === null) return null;
    if (typeof error === 'string') return error;
    if (error instanceof Error) return error.message;
    return JSON.stringify(error) ?? String(error);
  }

  const conversationPath = (id) => '/platform/api/conversations/' + encodeURIComponent(id);

  async function authenticateEmbedded(method, request) {
    const answer = await askPage(method.name, method.context, request);
    const token = answer.token === undefined || answer.token === null ? '' : answer.token;
    const handover = { token, error: errorText(answer.error) };
    if (answer.methodError) handover.method_error = answer.methodError;
    const view = await api(conversationPath(request.conversation) + '/token', handover);
    render(view);
    watchExpiry(view, async () => {
      render(Object.assign({}, view, { status: 'expired' }));
      try {
        const fresh = await api(conversationPath(request.conversation) + '/renew');
        await authenticateEmbedded(method, fresh);
      } catch (err) {
        renderFailure(err, request.conversation);
      }
    });
  }

  // "Chat with us": options are {mode: 'embedded'|'popup', flow: 'code'|'implicit',
  // encrypted: bool, pkce?: bool (default true), methodName?: the JS Method Name, a dotted
  // path (default lpGetAuthenticationToken), methodContext?: the JS Context, a dotted path or
  // an object, brand?: the brand whose connector verifies (default: the platform's default
  // brand)}.
  lpTag.startChat = async function (options) {
    const { mode, flow, encrypted } = options;
    const method = { name: options.methodName || 'lpGetAuthenticationToken', context: options.methodContext };
    const start = { mode, flow, encrypted: !!encrypted, pkce: options.pkce !== false, page_sdes: pushed.slice() };
    if (options.brand) start.brand = options.brand;
    if (mode === 'popup') {
      // Opened during the click, so no popup blocker objects, then sent to the provider.
      const popup = window.open('about:blank', 'lp-window', 'popup,width=560,height=780');
      if (!popup) {
        renderError('the browser blocked the popup window');
        return;
      }
      try {
        start.identity = await askIdentity();
        const request = await api('/platform/api/conversations', start);
        render(
          { id: request.conversation, status: 'pending', workspace_url: '/platform/agent/' + request.conversation },
          'Continue in the popup window: sign in there to chat.',
        );
        popup.location.href = request.authorize_url;
      } catch (err) {
        popup.close();
        renderError(err.message);
      }
      return;
    }
    try {
      start.identity = await askIdentity();
      const request = await api('/platform/api/conversations', start);
      render({ id: request.conversation, status: 'pending', workspace_url: '/platform/agent/' + request.conversation });
      await authenticateEmbedded(method, request);
    } catch (err) {
      renderFailure(err);
    }
  };

  // The popup tells the page how its conversation is going.
  window.addEventListener('message', (event) => {
    if (event.origin !== location.origin || !event.data || event.data.type !== 'lp-conversation') return;
    if (!$('lp-window') || event.source === window) return;
    const view = event.data.view;
    render(view, view.status === 'authenticated' ? 'Your conversation continues in the popup window, signed in.' : undefined);
  });

  lpTag.window = { api, render, renderError, renderFailure, watchExpiry, conversationPath };
})();
