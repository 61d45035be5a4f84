// The demo shop (templates/demo/shop.html): the voc() queue the embed snippet sets up before
// the widget loads, and the buttons that fire touchpoints. A static file, loaded before
// voc.js: the Content-Security-Policy allows no inline script.
window.voc = window.voc || function () { (window.voc.q = window.voc.q || []).push(arguments); };

(() => {
  const log = (line) => {
    const el = document.getElementById("log");
    el.textContent = new Date().toLocaleTimeString() + "  " + line + "\n" + el.textContent;
  };
  document.querySelectorAll("[data-touchpoint]").forEach((button) =>
    button.addEventListener("click", async () => {
      const key = button.dataset.touchpoint;
      const decision = await (window.voc.track ? window.voc.track(key) : window.voc("track", key));
      if (decision) {
        const texts = document.getElementById("log").dataset;
        const words = JSON.parse(document.getElementById("reason-words").textContent);
        const why = `${words[decision.reason] || decision.reason} (${decision.reason})`;
        log(key + " → " + (decision.show ? texts.shown.replace("{seconds}", decision.survey.delay_seconds) : texts.held + " " + why));
      }
    }),
  );
  const signIn = document.getElementById("sign-in");
  if (signIn) {
    signIn.addEventListener("click", (e) => {
      window.voc.identify(e.target.dataset.user, { plan: "pro", region: "cn" }, e.target.dataset.userHash);
      log(document.getElementById("log").dataset.identified + " " + e.target.dataset.user);
    });
  }
  const signOut = document.getElementById("sign-out");
  if (signOut) {
    signOut.addEventListener("click", () => {
      window.voc.reset();
      log(document.getElementById("log").dataset.signedOut);
    });
  }
})();
