// The camera and microphone check: a preview of the camera and a level meter for the
// microphone, in this browser only (nothing is recorded or sent). Loaded from our own origin.
const check = document.querySelector("[data-camera-check]");

if (check) {
  const start = check.querySelector("[data-camera-start]");
  const preview = check.querySelector("[data-camera-preview]");
  const meter = check.querySelector("[data-camera-level]");
  const status = check.querySelector("[data-camera-status]");
  document.querySelector("[data-camera-nojs]")?.remove();
  check.hidden = false;

  const say = (key) => {
    status.textContent = status.dataset[key];
  };

  start.addEventListener("click", async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      say("unsupported");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (error) {
      say(error.name === "NotAllowedError" ? "denied" : "missing");
      return;
    }
    start.hidden = true;
    preview.hidden = false;
    preview.srcObject = stream;
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 512;
    audio.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const camera = stream.getVideoTracks().length > 0;
    const microphone = stream.getAudioTracks().length > 0;
    say(camera && microphone ? "working" : "partly");
    const level = () => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      meter.value = Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 300));
      meter.dataset.heard = meter.dataset.heard || (meter.value > 0 ? "yes" : "");
      window.requestAnimationFrame(level);
    };
    level();
  });
}
