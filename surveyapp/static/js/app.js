// Progressive enhancement only: every page works without this script.
"use strict";

// Give each password field marked data-reveal a "Show password" switch, handy on phones;
// the attribute holds the switch's words in the page's language.
document.querySelectorAll("input[data-reveal]").forEach((input) => {
  const label = document.createElement("label");
  label.className = "reveal";
  const toggle = document.createElement("input");
  toggle.type = "checkbox";
  toggle.addEventListener("change", () => {
    input.type = toggle.checked ? "text" : "password";
  });
  label.append(toggle, input.dataset.reveal || "Show password");
  input.after(label);
});
