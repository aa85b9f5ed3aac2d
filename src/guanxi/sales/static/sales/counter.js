// The counter (sales/counter.html): choose the customer with the keyboard, add product lines, show their
// total, and be ready for the next customer after each booking. The server computes every amount again.
(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  let pickWhenLoaded = false;

  const form = () => $("#counter form");
  const search = () => $("#counter-q");
  const choices = () => $$("#counter-results [data-pick]");

  function focusAmount() {
    const lineProduct = $$("#counter-line-rows select[name=line_product]").find((s) => s.value);
    const amount = $("#counter input[name=amount]");
    if (lineProduct) { lineProduct.closest("tr").querySelector("input[name=line_quantity]").focus(); return; }
    if (amount) { amount.focus(); amount.select(); }
  }

  function pick(button) {
    const hidden = $("input[name=customer]", form());
    hidden.value = button.dataset.pick;
    $("#counter-results").innerHTML = "";
    search().value = "";
    htmx.ajax("GET", button.dataset.chipUrl, { target: "#counter-customer", swap: "innerHTML" }).then(focusAmount);
  }

  function clearCustomer() {
    $("input[name=customer]", form()).value = "";
    $("#counter-customer").innerHTML = "";
    const box = search();
    if (box) { box.value = ""; box.focus(); }
  }

  function move(step) {
    const items = choices();
    if (!items.length) return;
    const index = items.findIndex((item) => item.classList.contains("active"));
    const next = (index + step + items.length) % items.length;
    items.forEach((item, i) => item.classList.toggle("active", i === next));
    items[next].scrollIntoView({ block: "nearest" });
  }

  const money = (value) => (Math.round(value * 100) / 100).toFixed(2);
  const number = (text) => {
    const value = parseFloat(String(text || "").replace(/[,，¥￥\s]/g, ""));
    return Number.isFinite(value) ? value : null;
  };

  function recompute() {
    const rows = $$("#counter-line-rows tr.counter-line");
    let total = 0;
    let used = false;
    rows.forEach((row) => {
      const select = $("select[name=line_product]", row);
      const option = select.selectedOptions[0];
      const unit = $(".counter-unit", row);
      const price = $("input[name=line_price]", row);
      const cell = $(".counter-line-total", row);
      unit.textContent = option && option.value ? option.dataset.unit || "" : "";
      price.placeholder = option && option.value ? option.dataset.price : price.dataset.placeholder || price.placeholder;
      if (!option || !option.value) { cell.textContent = ""; return; }
      used = true;
      const quantity = number($("input[name=line_quantity]", row).value) ?? 1;
      const unitPrice = number(price.value) ?? number(option.dataset.price) ?? 0;
      const discount = number($("input[name=line_discount]", row).value) ?? 0;
      const line = Math.round(quantity * unitPrice * 100) / 100 - discount;
      total += line;
      cell.textContent = "¥" + money(line);
    });
    const amount = $("#counter input[name=amount]");
    const note = $("#counter .counter-lines-note");
    if (!amount) return;
    if (used) {
      amount.readOnly = true;
      amount.value = money(total);
      note.hidden = false;
    } else if (amount.readOnly) {
      amount.readOnly = false;
      amount.value = "";
      note.hidden = true;
    }
  }

  document.addEventListener("keydown", (event) => {
    if (!$("#counter")) return;
    if (event.target === search()) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        event.preventDefault(); // never book from the search box
        const items = choices();
        if (items.length) pick(items.find((item) => item.classList.contains("active")) || items[0]);
        else if (search().value.trim()) { pickWhenLoaded = true; htmx.trigger(search(), "search"); }
      } else if (event.key === "Escape") {
        search().value = "";
        $("#counter-results").innerHTML = "";
      }
      return;
    }
    if (event.key === "Escape" && $("#counter-customer .counter-chip")) {
      event.preventDefault();
      clearCustomer();
    }
  });

  document.addEventListener("click", (event) => {
    if (!$("#counter")) return;
    const choice = event.target.closest("[data-pick]");
    if (choice) { pick(choice); return; }
    if (event.target.closest("[data-clear-customer]")) { clearCustomer(); return; }
    if (event.target.closest("[data-add-line]")) {
      const row = $("#counter-line-template").content.cloneNode(true);
      $("#counter-line-rows").appendChild(row);
      const rows = $$("#counter-line-rows tr.counter-line");
      $("select", rows[rows.length - 1]).focus();
      return;
    }
    const remove = event.target.closest("[data-remove-line]");
    if (remove) {
      const row = remove.closest("tr");
      const errors = row.nextElementSibling;
      if (errors && errors.classList.contains("counter-line-errors")) errors.remove();
      if ($$("#counter-line-rows tr.counter-line").length > 1) row.remove();
      else row.querySelectorAll("input, select").forEach((input) => { input.value = ""; });
      recompute();
    }
  });

  document.addEventListener("input", (event) => { if (event.target.closest("#counter-line-rows")) recompute(); });
  document.addEventListener("change", (event) => {
    if (event.target.matches("#counter-line-rows select[name=line_product]")) {
      recompute();
      if (event.target.value) event.target.closest("tr").querySelector("input[name=line_quantity]").focus();
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "counter-results" && pickWhenLoaded) {
      pickWhenLoaded = false;
      const items = choices();
      if (items.length) pick(items[0]);
    } else if (target.id !== "counter-customer" && $("#counter")) { // the counter after booking or an error
      recompute();
      const error = $("#counter .has-error input, #counter .has-error select, #counter .counter-line-errors");
      if (error && error.focus) { error.focus(); return; }
      if ($("#counter-customer .counter-chip")) focusAmount();
      else if (search()) search().focus();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("#counter")) return;
    recompute();
    if ($("#counter-customer .counter-chip")) focusAmount();
  });
})();
