'use strict';
// The agent workspace follows its conversation: it reloads when the conversation changes
// (a token verified or refused, a re-authentication, an expiry).
(function () {
  const root = document.getElementById('agent');
  if (!root) return;
  const { conversation, version, status } = root.dataset;
  async function poll() {
    try {
      const response = await fetch('/platform/api/conversations/' + encodeURIComponent(conversation));
      if (response.ok) {
        const view = await response.json();
        if (String(view.version) !== version || view.status !== status) {
          location.reload();
          return;
        }
      }
    } catch (_) {
      // The server may be restarting: try again.
    }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
