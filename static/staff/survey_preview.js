// Live preview on the survey editor: what the form holds now (saved or not), rendered by the
// real widget. A static file, not an inline script: the Content-Security-Policy allows none.
(() => {
  const designer = document.getElementById("designer");
  const problem = document.getElementById("preview-problem");
  if (!designer || !problem) return;
  // Picking a colour means the survey has one of its own (the box stays the way back).
  const ownColor = designer.querySelector("[name=own_color]");
  const color = designer.querySelector("[name=theme_color]");
  if (ownColor && color) color.addEventListener("input", () => (ownColor.checked = true));
  document.querySelectorAll("[data-preview]").forEach((button) =>
    button.addEventListener("click", async () => {
      let previews = JSON.parse(document.getElementById("survey-previews").textContent);
      problem.textContent = "";
      const reply = await fetch(designer.dataset.previewUrl, { method: "POST", body: new FormData(designer) });
      if (reply.ok) previews = await reply.json();
      else problem.textContent = `${(await reply.json()).error} ${problem.dataset.savedDraft}`;
      if (window.voc && window.voc.preview) window.voc.preview(previews[button.dataset.preview]);
    }),
  );
})();
