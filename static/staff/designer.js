// The survey designer's questions: drag (or move up / down) to reorder, add any number before
// saving, remove a new one again. The formset's hidden ORDER inputs stay the truth the server
// reads: they are rewritten from the page order after every change. Native drag and drop, by
// the handle only, so text in the inputs can still be selected.
(() => {
  const designer = document.getElementById("designer");
  const list = document.getElementById("question-list");
  const template = document.getElementById("question-template");
  const add = document.getElementById("add-question");
  if (!designer || !list || !template || !add) return;
  const total = designer.querySelector("input[name$='-TOTAL_FORMS']");
  const items = () => [...list.querySelectorAll(":scope > .question-form:not([hidden])")];

  const renumber = () => {
    const shown = items();
    // A condition names its question by number ("Only if question #"): when that question
    // moves, the condition follows it to its new number.
    const moved = new Map();
    shown.forEach((item, place) => {
      if (item.dataset.number) moved.set(item.dataset.number, String(place + 1));
      item.dataset.number = String(place + 1);
    });
    list.querySelectorAll("input[name$='-show_if_question']").forEach((input) => {
      if (moved.has(input.value)) input.value = moved.get(input.value);
    });
    shown.forEach((item, place) => {
      const order = item.querySelector("input[name$='-ORDER']");
      if (order) order.value = String(place + 1);
      const title = item.querySelector(".question-title");
      if (title) title.textContent = title.dataset.template.replace("__number__", String(place + 1));
      const up = item.querySelector(".question-up");
      const down = item.querySelector(".question-down");
      if (up) up.disabled = place === 0;
      if (down) down.disabled = place === shown.length - 1;
    });
    add.disabled = shown.length >= Number(add.dataset.max);
  };

  const changed = () => {
    renumber();
    designer.dispatchEvent(new Event("input", { bubbles: true }));
  };

  const move = (item, offset) => {
    const shown = items();
    const target = shown[shown.indexOf(item) + offset];
    if (!target) return;
    if (offset < 0) list.insertBefore(item, target);
    else list.insertBefore(item, target.nextSibling);
    changed();
  };

  list.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button") : null;
    const item = button ? button.closest(".question-form") : null;
    if (!item) return;
    if (button.classList.contains("question-up")) move(item, -1);
    else if (button.classList.contains("question-down")) move(item, 1);
    else if (button.classList.contains("question-remove")) {
      const remove = item.querySelector("input[name$='-DELETE']");
      if (remove) remove.checked = true;
      item.hidden = true;
      changed();
      add.focus();
      return;
    } else return;
    button.focus(); // keyboard users keep their place on the moved question
  });

  add.addEventListener("click", () => {
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    changed();
    const added = list.lastElementChild;
    const first = added.querySelector("select, input:not([type=hidden])");
    if (first) first.focus();
  });

  // Dragging: only from the handle (draggable is switched on while the handle is held).
  let dragged = null;
  list.addEventListener("pointerdown", (event) => {
    const handle = event.target instanceof Element ? event.target.closest(".question-handle") : null;
    if (handle) handle.closest(".question-form").draggable = true;
  });
  list.addEventListener("pointerup", () => {
    if (!dragged) list.querySelectorAll(".question-form[draggable=true]").forEach((item) => (item.draggable = false));
  });
  list.addEventListener("dragstart", (event) => {
    dragged = event.target instanceof Element ? event.target.closest(".question-form") : null;
    if (!dragged || !dragged.draggable) {
      event.preventDefault();
      return;
    }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.id);
    dragged.classList.add("question-dragging");
  });
  list.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const over = items().find((item) => {
      if (item === dragged) return false;
      const box = item.getBoundingClientRect();
      return event.clientY < box.top + box.height / 2;
    });
    if (over) {
      if (over !== dragged.nextElementSibling) list.insertBefore(dragged, over);
    } else if (list.lastElementChild !== dragged) {
      list.appendChild(dragged);
    }
  });
  list.addEventListener("drop", (event) => {
    if (dragged) event.preventDefault();
  });
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("question-dragging");
    dragged.draggable = false;
    dragged = null;
    changed();
  });

  // Publishing sends the saved draft: while the form holds unsaved changes, say so and hold
  // Publish back.
  const state = document.getElementById("save-state");
  const publish = document.getElementById("publish");
  designer.addEventListener("input", () => {
    if (state && state.dataset.unsaved) state.textContent = state.dataset.unsaved;
    if (publish) publish.disabled = true;
  });

  designer.addEventListener("submit", renumber);
  renumber();
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
