// The journey map's drag-to-reorder: a touchpoint card dropped in a stage column is moved
// there by the same POST the arrow buttons use (action=move, stage, position), so the page
// works the same without JavaScript and the order is saved by the server.
(() => {
  const cards = () => document.querySelectorAll(".journey-touchpoint[draggable='true']");
  const csrf = document.querySelector("input[name='csrfmiddlewaretoken']");
  if (!csrf) return;
  let dragged = null;

  const place = (zone, y) => {
    const others = [...zone.querySelectorAll(".journey-touchpoint")].filter((c) => c !== dragged);
    const index = others.findIndex((c) => {
      const box = c.getBoundingClientRect();
      return y < box.top + box.height / 2;
    });
    return index === -1 ? others.length : index;
  };

  for (const card of cards()) {
    card.addEventListener("dragstart", (event) => {
      dragged = card;
      card.classList.add("journey-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.dataset.touchpointId);
    });
    card.addEventListener("dragend", () => {
      card.classList.remove("journey-dragging");
      dragged = null;
    });
  }

  for (const zone of document.querySelectorAll(".journey-stage[data-stage] .journey-drop")) {
    zone.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      zone.classList.add("journey-drop-target");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("journey-drop-target"));
    zone.addEventListener("drop", (event) => {
      if (!dragged) return;
      event.preventDefault();
      zone.classList.remove("journey-drop-target");
      const form = document.createElement("form");
      form.method = "post";
      form.action = dragged.querySelector("form[action]").getAttribute("action");
      const fields = {
        csrfmiddlewaretoken: csrf.value,
        action: "move",
        stage: zone.closest(".journey-stage").dataset.stage,
        position: String(place(zone, event.clientY)),
      };
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    });
  }
})();
