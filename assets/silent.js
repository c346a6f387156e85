'use strict';
// The brand page's silent sign-in frame: hands the provider's answer (query or fragment) to the
// page that framed it, on this origin only.
(function () {
  const answer = (location.hash.length > 1 ? location.hash : location.search).slice(1);
  if (window.parent !== window) window.parent.postMessage(answer, location.origin);
})();
