// Behaviour of the staff pages that the Content-Security-Policy keeps out of the templates
// (no inline scripts, no inline event handlers, no style attributes):
//   form[data-confirm]        asks before the form is sent
//   select[data-autosubmit]   sends its form when the choice changes
//   [data-height], [data-min-height] (pixels), [data-width-percent]
//                             sizes set through the CSSOM, which the policy allows
(() => {
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
        if (!window.confirm(form.dataset.confirm)) {
          event.preventDefault();
          event.stopImmediatePropagation();
        }
      }
    },
    true,
  );

  document.addEventListener("change", (event) => {
    const field = event.target;
    if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined && field.form) {
      if (field.form.requestSubmit) field.form.requestSubmit();
      else field.form.submit();
    }
  });

  const size = (root) => {
    const nodes = [root, ...root.querySelectorAll("[data-height], [data-min-height], [data-width-percent]")];
    for (const node of nodes) {
      if (!(node instanceof HTMLElement)) continue;
      if (node.dataset.height) node.style.height = `${Number(node.dataset.height)}px`;
      if (node.dataset.minHeight) node.style.minHeight = `${Number(node.dataset.minHeight)}px`;
      if (node.dataset.widthPercent) node.style.width = `${Number(node.dataset.widthPercent)}%`;
    }
  };
  size(document.documentElement);
  // Content htmx swaps in (the retagging progress bar, every second).
  document.addEventListener("htmx:load", (event) => size(event.target));
})();
