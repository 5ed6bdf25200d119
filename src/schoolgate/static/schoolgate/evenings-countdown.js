// The hold page's countdown, at the top and beside the message boxes (every
// [data-countdown] element shows the same time). Progressive enhancement only: without
// this file the page says the time the hold ends ("held until 18:04", "Confirm by
// 18:04"), and confirming after it tells the parent the times have run out. Loaded from
// our own origin (CSP: script-src 'self').
const timers = Array.from(document.querySelectorAll("[data-countdown]"));
const announcer = document.querySelector("[data-countdown-announce]");

if (timers.length) {
  const total = Number(timers[0].dataset.seconds) || 0;
  // The server says how many seconds are left, so a wrong clock on the phone does not matter.
  const deadline = Date.now() + total * 1000;
  // Screen readers hear the time left at these points, not every second.
  const marks = [60, 30, 10, 0].filter((mark) => mark < total);

  const show = () => {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    for (const timer of timers) {
      timer.textContent =
        left > 0 ? timer.dataset.left.replace("{time}", `${minutes}:${seconds}`) : timer.dataset.over;
    }
    if (announcer && marks.length && left <= marks[0]) {
      while (marks.length && left <= marks[0]) marks.shift();
      announcer.textContent = timers[0].textContent;
    }
    if (left > 0) {
      window.setTimeout(show, ((deadline - Date.now()) % 1000) + 20);
    } else {
      for (const timer of timers) timer.classList.add("govuk-error-message");
    }
  };

  for (const timer of timers) timer.hidden = false;
  show();
}
