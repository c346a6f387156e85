'use strict';
// The popup conversation window (liveperson-auth.md §1.4): the provider redirected here with a
// code (query) or an ID token (fragment) and the state the platform sent. The platform checks
// and verifies it; on expiry the consumer is asked to log in again (§4.4).
(async function () {
  const { api, render, renderError, renderFailure, watchExpiry, conversationPath } = window.lpTag.window;
  const answer = (location.hash.length > 1 ? location.hash : location.search).slice(1);
  // Codes and tokens stay out of the address bar and the history.
  history.replaceState(null, '', location.pathname);
  const again = document.getElementById('lp-login-again');

  function tellOpener(view) {
    if (window.opener && !window.opener.closed) {
      window.opener.postMessage({ type: 'lp-conversation', view }, location.origin);
    }
  }

  function show(view) {
    render(view);
    tellOpener(view);
    again.hidden = true;
    watchExpiry(view, () => {
      const expired = Object.assign({}, view, { status: 'expired' });
      render(expired, 'Your session expired. Please log in again to go on chatting.');
      tellOpener(expired);
      again.hidden = false;
    });
  }

  let view;
  try {
    view = await api('/platform/api/window/callback', { response: answer });
  } catch (err) {
    renderFailure(err);
    if (err.rejected && window.opener && !window.opener.closed) {
      const rejected = { id: err.conversation, status: 'rejected', workspace_url: '/platform/agent/' + encodeURIComponent(err.conversation) };
      window.opener.postMessage({ type: 'lp-conversation', view: rejected }, location.origin);
    }
    return;
  }
  show(view);
  again.addEventListener('click', async () => {
    try {
      const request = await api(conversationPath(view.id) + '/renew');
      location.assign(request.authorize_url);
    } catch (err) {
      renderError(err.message);
    }
  });
})();
