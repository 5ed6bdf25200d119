// Live parts of a page (running late, attendance, Join buttons) kept up to date: every few
// seconds the part is asked for again from its fragment address and put in place.
// Progressive enhancement only: without this file the page has a Refresh link. Loaded from
// our own origin (CSP: script-src 'self'); the fragment is our own server's HTML.
const UPDATED = ".sg-live-updated";

// What the part says, leaving out the time it was made and the CSRF tokens (masked afresh
// on every response): when nothing else changed the part is left alone, so a button is
// never replaced under a finger.
const withoutTime = (html) => {
  const box = document.createElement("div");
  box.innerHTML = html;
  box.querySelector(UPDATED)?.remove();
  for (const token of box.querySelectorAll("input[name=csrfmiddlewaretoken]")) token.remove();
  return box.innerHTML.trim();
};

for (const region of document.querySelectorAll("[data-live-url]")) {
  const seconds = Number(region.dataset.liveSeconds) || 15;
  let shown = withoutTime(region.innerHTML);

  const refresh = async () => {
    try {
      const response = await fetch(region.dataset.liveUrl, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.ok) {
        const html = await response.text();
        const content = withoutTime(html);
        if (content !== shown) {
          // Keep the place of whoever is using the page: the focused control, by its id.
          const focused = region.contains(document.activeElement) ? document.activeElement.id : "";
          region.innerHTML = html;
          shown = content;
          if (focused) document.getElementById(focused)?.focus();
        } else {
          const box = document.createElement("div");
          box.innerHTML = html;
          const time = box.querySelector(UPDATED);
          const old = region.querySelector(UPDATED);
          if (time && old) old.replaceWith(time);
        }
      }
    } catch {
      // Offline for a moment: try again at the next turn.
    }
    window.setTimeout(refresh, seconds * 1000);
  };

  window.setTimeout(refresh, seconds * 1000);
}
