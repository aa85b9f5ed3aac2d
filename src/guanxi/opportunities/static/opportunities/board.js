// The kanban board: drag and drop with SortableJS, posted through htmx; the close dialogs; focus and
// announcements after a keyboard move. The server draws the board again after every move.
(function () {
  "use strict";
  let lastControl = null;

  function boardEl() { return document.getElementById("board"); }

  function filterValues() {
    const values = {};
    const form = document.getElementById("board-filters");
    if (form) new FormData(form).forEach((value, key) => { values[key] = value; });
    return values;
  }

  function onEnd(evt) {
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
    const item = evt.item;
    const board = boardEl();
    const values = Object.assign(filterValues(), { stage: evt.to.dataset.stage, region: "board" });
    const prev = item.previousElementSibling;
    const next = item.nextElementSibling;
    if (prev && prev.dataset.id) values.after = prev.dataset.id;
    else if (next && next.dataset.id) values.before = next.dataset.id;
    lastControl = null;
    const url = board.dataset.moveUrl.replace(/\/0\/move$/, "/" + item.dataset.id + "/move");
    htmx.ajax("POST", url, { source: board, target: "#board", swap: "outerHTML", values: values });
  }

  function init(root) {
    const board = boardEl();
    if (!board || board.dataset.mayChange !== "1" || typeof Sortable === "undefined") return;
    (root.querySelectorAll ? root : document).querySelectorAll(".kb-cards").forEach((list) => {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      Sortable.create(list, {
        group: { name: "board", pull: !list.classList.contains("kb-drop"), put: true },
        sort: !list.classList.contains("kb-drop"),
        draggable: ".kb-card",
        filter: "button, select, .kb-more",
        preventOnFilter: false,
        animation: 120,
        ghostClass: "kb-ghost",
        chosenClass: "kb-chosen",
        onEnd: onEnd,
      });
    });
  }

  function reloadBoard() {
    const board = boardEl();
    if (!board) return;
    const values = Object.assign(filterValues(), { region: "board" });
    htmx.ajax("GET", board.dataset.boardUrl, { source: board, target: "#board", swap: "outerHTML", values: values });
  }

  function closeDialog(reload) {
    const dialog = document.getElementById("close-dialog");
    if (dialog) {
      const origin = dialog.dataset.origin;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (reload && origin === "board") reloadBoard();
    }
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    lastControl = elt && elt.dataset && elt.dataset.control ? elt.dataset.control : lastControl;
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const target = event.detail.target;
    if (target && target.id === "dialog-slot") {
      const dialog = document.getElementById("close-dialog");
      if (dialog && !dialog.open) {
        dialog.showModal();
        const first = dialog.querySelector("select, input:not([type=hidden]), textarea");
        if (first) first.focus();
      }
      return;
    }
    const board = boardEl();
    // Only a swap of the board region: other requests on the page (the notification bell) settle too.
    // (An outerHTML swap reports the replaced element, so match the board by its id.)
    if (!board || !target || !(target.id === "board" || board.contains(target))) return;
    const stale = document.getElementById("close-dialog");
    if (stale && !stale.open) stale.remove();
    const status = document.getElementById("board-status");
    if (status && board.dataset.announce) status.textContent = board.dataset.announce;
    if (board.dataset.moved && lastControl) {
      const card = document.getElementById("card-" + board.dataset.moved);
      const control = card && (card.querySelector('[data-control="' + lastControl + '"]') || card.querySelector(".kb-title"));
      if (control) control.focus();
    }
    lastControl = null;
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-dialog-cancel]") && event.target.closest("#close-dialog")) {
      event.preventDefault();
      closeDialog(true);
    }
  });
  // Escape closes a modal dialog by itself: put the card back then too.
  document.addEventListener("cancel", (event) => {
    if (event.target.id === "close-dialog") { event.preventDefault(); closeDialog(true); }
  }, true);
  // After a close from the dialog: hide it now, remove it once the board is swapped (htmx drops a swap
  // whose requesting element, the dialog's form, has left the page).
  document.body.addEventListener("guanxi:dialog-close", () => {
    const dialog = document.getElementById("close-dialog");
    if (dialog && dialog.open) dialog.close();
  });

  htmx.onLoad(init);
})();
