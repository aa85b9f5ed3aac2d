// Small behaviours htmx does not cover: "select all" on list pages, closing the search suggestions.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  document.querySelectorAll(all.dataset.selectAll).forEach((box) => { box.checked = all.checked; });
});
document.addEventListener("click", (event) => {
  const suggest = document.getElementById("search-suggest");
  if (suggest && !event.target.closest(".global-search")) suggest.innerHTML = "";
});
document.addEventListener("keydown", (event) => {
  if (event.key === "/" && !event.target.closest("input, textarea, select")) {
    const box = document.querySelector(".global-search input");
    if (box) { event.preventDefault(); box.focus(); }
  }
});
