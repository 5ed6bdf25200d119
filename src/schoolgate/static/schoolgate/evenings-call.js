// The call page's countdown to the end of the appointment and its "2 minutes left" notice.
// Progressive enhancement only: without this file the page says when the slot ends. The call
// itself is never cut off. Loaded from our own origin (CSP: script-src 'self').
const timer = document.querySelector("[data-call-countdown]");
const notice = document.querySelector("[data-call-notice]");

if (timer) {
  const total = Number(timer.dataset.seconds) || 0;
  const noticeAt = Number(timer.dataset.noticeSeconds) || 120;
  // The server says how many seconds are left, so a wrong clock on the device does not matter.
  const deadline = Date.now() + total * 1000;

  const show = () => {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    timer.textContent =
      left > 0 ? timer.dataset.left.replace("{time}", `${minutes}:${seconds}`) : timer.dataset.over;
    if (notice && left > 0 && left <= noticeAt) notice.hidden = false;
    if (notice && left === 0) notice.hidden = true;
    if (left > 0) window.setTimeout(show, ((deadline - Date.now()) % 1000) + 20);
  };

  show();
}
