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

// A table wider than the screen scrolls sideways: make its frame reachable with the
// keyboard, named after the table's caption (WCAG 2.1.1).
const scrollableTables = () => {
  document.querySelectorAll(".table-wrap").forEach((frame) => {
    if (frame.scrollWidth > frame.clientWidth) {
      frame.tabIndex = 0;
      frame.setAttribute("role", "region");
      const caption = frame.querySelector("caption");
      if (caption) frame.setAttribute("aria-label", caption.textContent.trim());
    } else if (frame.getAttribute("role") === "region") {
      frame.removeAttribute("tabindex");
      frame.removeAttribute("role");
      frame.removeAttribute("aria-label");
    }
  });
};
scrollableTables();
window.addEventListener("resize", scrollableTables);
