// Task pages: pick what a task is about from the search results; copy the calendar feed's address.
document.addEventListener("click", (event) => {
  const pick = event.target.closest("[data-link-kind]");
  if (pick) {
    const form = pick.closest("form");
    const set = (kind, id, label) => {
      form.querySelector(`input[name=${kind}]`).value = id;
      const chips = form.querySelector("[data-link-chips]");
      chips.querySelector(`[data-chip=${kind}]`)?.remove();
      const chip = document.createElement("span");
      chip.className = "tk-chip";
      chip.dataset.chip = kind;
      chip.textContent = ` ${label} `;
      const tag = document.createElement("span");
      tag.className = "muted small";
      tag.textContent = form.dataset["label" + kind[0].toUpperCase() + kind.slice(1)] || "";
      chip.prepend(tag);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.dataset.unlink = kind;
      remove.textContent = "×";
      chip.append(remove);
      chips.append(chip);
    };
    set(pick.dataset.linkKind, pick.dataset.linkId, pick.dataset.linkLabel);
    if (pick.dataset.linkCustomer) set("customer", pick.dataset.linkCustomer, pick.dataset.linkCustomerLabel);
    form.querySelector("#tk-link-results").innerHTML = "";
    form.querySelector("#tk-link-q").value = "";
    return;
  }
  const unlink = event.target.closest("[data-unlink]");
  if (unlink) {
    const form = unlink.closest("form");
    form.querySelector(`input[name=${unlink.dataset.unlink}]`).value = "";
    unlink.closest("[data-chip]").remove();
    return;
  }
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const box = document.getElementById(copy.dataset.copy);
    box.select();
    navigator.clipboard?.writeText(box.value).catch(() => document.execCommand("copy"));
    copy.textContent = copy.dataset.copied;
  }
});
document.addEventListener("keydown", (event) => {
  // Enter in the link search picks the first result instead of sending the form.
  if (event.key === "Enter" && event.target.id === "tk-link-q") {
    event.preventDefault();
    document.querySelector("#tk-link-results [data-link-kind]")?.click();
  }
});
