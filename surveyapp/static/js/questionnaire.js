// Questionnaire pages: autosave while typing, a copy kept in this browser until the server
// has it, skip logic shown live. Progressive enhancement: without this script the page's
// buttons still save everything, and the server applies the same skip logic.
"use strict";

(() => {
  const form = document.getElementById("answers");
  if (!form) return;

  const PARTS = ["na", "justification", "comment"];
  const TYPING_DELAY = 800; // ms of quiet before text is sent
  const CLICK_DELAY = 150; // radio buttons and checkboxes are sent almost at once
  const RETRY_DELAYS = [3000, 6000, 12000, 30000, 60000];
  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const storageKey = form.dataset.storageKey;
  const autosaveUrl = form.dataset.autosave;
  const locked = form.hasAttribute("data-locked");
  const context = JSON.parse(form.dataset.context || "{}");
  // The page's words, in its language (respond/page.html); {name} marks a value.
  const messages = JSON.parse(form.dataset.messages || "{}");
  const locale = document.documentElement.lang || undefined;
  const word = (key, values = {}) =>
    (messages[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  const status = document.querySelector("[data-save-status]");
  const slots = Array.from(document.querySelectorAll("[data-slot]"));
  const slotByKey = new Map(slots.map((element) => [element.dataset.slot, element]));

  let timer = null;
  let retries = 0;
  let inFlight = false;
  let revision = 0;
  const dirty = new Map(); // slot key -> revision of its latest change

  // --- Local copy: what the server has not confirmed yet survives a closed tab. -------------

  function readStore() {
    try {
      return JSON.parse(window.localStorage.getItem(storageKey) || "{}");
    } catch {
      return {};
    }
  }

  function writeStore(entries) {
    try {
      if (Object.keys(entries).length) {
        window.localStorage.setItem(storageKey, JSON.stringify(entries));
      } else {
        window.localStorage.removeItem(storageKey);
      }
    } catch {
      // Private browsing or a full storage: autosave still works, only the local copy is lost.
    }
  }

  function remember(key, parts) {
    const entries = readStore();
    entries[key] = { parts, at: Date.now() };
    writeStore(entries);
  }

  function forget(keys) {
    const entries = readStore();
    keys.forEach((key) => delete entries[key]);
    writeStore(entries);
  }

  // --- Reading and writing a slot's inputs. ------------------------------------------------

  function inputsOf(slot) {
    return Array.from(slot.querySelectorAll('[form="answers"][name]'));
  }

  function partOf(slot, name) {
    const key = slot.dataset.slot;
    if (name === key) return ["value", null];
    if (!name.startsWith(`${key}~`)) return [null, null];
    const sub = name.slice(key.length + 1);
    return PARTS.includes(sub) ? [sub, null] : ["criteria", sub];
  }

  function stateOf(slot) {
    const parts = {};
    for (const input of inputsOf(slot)) {
      if (input.disabled) continue;
      const [part, criterion] = partOf(slot, input.name);
      if (!part) continue;
      if (part === "na") {
        parts.not_applicable = input.checked;
      } else if (part === "criteria") {
        parts.criteria = parts.criteria || {};
        if (input.type !== "radio" || input.checked) parts.criteria[criterion] = input.value;
        else if (!(criterion in parts.criteria)) parts.criteria[criterion] = "";
      } else if (input.type === "radio") {
        if (input.checked) parts[part] = input.value;
        else if (!(part in parts)) parts[part] = "";
      } else {
        parts[part] = input.value;
      }
    }
    return parts;
  }

  function apply(slot, parts) {
    for (const input of inputsOf(slot)) {
      const [part, criterion] = partOf(slot, input.name);
      if (!part) continue;
      const wanted = part === "na" ? parts.not_applicable
        : part === "criteria" ? (parts.criteria || {})[criterion]
        : parts[part];
      if (wanted === undefined) continue;
      if (input.type === "checkbox") input.checked = Boolean(wanted);
      else if (input.type === "radio") input.checked = input.value === wanted;
      else input.value = wanted;
    }
  }

  // --- Skip logic: the same tree the server evaluates (instruments/expressions.py). -------

  function currentValue(itemId) {
    const slot = slots.find((element) => element.dataset.item === itemId);
    if (!slot) return context[itemId] ?? "";
    if (slot.hidden) return "";
    const parts = stateOf(slot);
    if (parts.not_applicable) return "";
    return parts.value ?? "";
  }

  function asNumber(value) {
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) {
      return Number(value);
    }
    return null;
  }

  function compare(operator, left, right) {
    const leftNumber = asNumber(left);
    const rightNumber = asNumber(right);
    let a = String(left);
    let b = String(right);
    if (leftNumber !== null && rightNumber !== null) {
      a = leftNumber;
      b = rightNumber;
    }
    switch (operator) {
      case "=": return a === b;
      case "!=": return a !== b;
      case "<": return typeof a === typeof b && a < b;
      case "<=": return typeof a === typeof b && a <= b;
      case ">": return typeof a === typeof b && a > b;
      default: return typeof a === typeof b && a >= b;
    }
  }

  function side(operand) {
    return "ref" in operand ? currentValue(operand.ref) : operand.value;
  }

  function evaluate(expression) {
    if (expression.op === "and") return expression.operands.every(evaluate);
    if (expression.op === "or") return expression.operands.some(evaluate);
    if (expression.op === "not") return !evaluate(expression.operand);
    return compare(expression.op, side(expression.left), side(expression.right));
  }

  function updateRelevance() {
    for (const slot of slots) {
      if (!slot.dataset.relevant) continue;
      slot.hidden = !evaluate(JSON.parse(slot.dataset.relevant));
    }
  }

  function updateSlotDetails(slot) {
    const parts = stateOf(slot);
    const justification = slot.querySelector("[data-shown-with-na]");
    if (justification) justification.hidden = !parts.not_applicable;
    const total = slot.querySelector("[data-rubric-total]");
    if (total && parts.criteria) {
      const levels = Object.values(parts.criteria);
      const complete = levels.length && levels.every((level) => level !== "");
      total.textContent = complete
        ? word("total", { total: levels.reduce((sum, level) => sum + Number(level), 0) }) : "";
    }
  }

  // --- Saving. --------------------------------------------------------------------------

  function say(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  function showErrors(slot, errors) {
    slot.classList.toggle("has-error", Object.keys(errors).length > 0);
    for (const holder of slot.querySelectorAll("[data-error-for]")) {
      const message = errors[holder.dataset.errorFor] || "";
      holder.textContent = message;
      holder.hidden = !message;
    }
    const valueInput = slot.querySelector(`[name="${CSS.escape(slot.dataset.slot)}"]`);
    if (valueInput && valueInput.type !== "radio") {
      if (errors.value) valueInput.setAttribute("aria-invalid", "true");
      else valueInput.removeAttribute("aria-invalid");
    }
  }

  function showProgress(progress) {
    const bar = document.querySelector("[data-progress]");
    const text = document.querySelector("[data-progress-text]");
    if (!progress || !bar || !text) return;
    bar.max = progress.required || 1;
    bar.value = progress.required ? progress.answered : 1;
    text.textContent = word("progress", progress);
  }

  function schedule(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  function retryLater() {
    const delay = RETRY_DELAYS[Math.min(retries, RETRY_DELAYS.length - 1)];
    retries += 1;
    schedule(delay);
  }

  function payload() {
    const sent = {};
    const revisions = {};
    for (const [key, rev] of dirty) {
      const slot = slotByKey.get(key);
      if (!slot) continue;
      sent[key] = stateOf(slot);
      revisions[key] = rev;
    }
    return { sent, revisions };
  }

  function handleReply(reply, revisions) {
    const errors = reply.errors || {};
    const settled = [];
    for (const [key, rev] of Object.entries(revisions)) {
      const slot = slotByKey.get(key);
      if (slot) showErrors(slot, errors[key] || {});
      if (dirty.get(key) === rev) dirty.delete(key);
      // Refused input stays in this browser, so the text is not lost while it is corrected.
      if (!errors[key] && !dirty.has(key)) settled.push(key);
    }
    forget(settled);
    showProgress(reply.progress);
    const refused = Object.keys(errors).length;
    if (refused) {
      say("error", word(refused === 1 ? "refused_one" : "refused_many", { count: refused }));
    } else {
      const time = new Date().toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
      say("saved", word("saved", { time }));
    }
  }

  async function save(options = {}) {
    window.clearTimeout(timer);
    if (locked || inFlight || dirty.size === 0) return;
    const { sent, revisions } = payload();
    inFlight = true;
    say("saving", word("saving"));
    let response;
    try {
      response = await fetch(autosaveUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-CSRFToken": csrfToken,
        },
        body: JSON.stringify({ slots: sent }),
        credentials: "same-origin",
        keepalive: Boolean(options.keepalive),
      });
    } catch {
      inFlight = false;
      say("offline", word("offline"));
      retryLater();
      return;
    }
    inFlight = false;
    const reply = await response.json().catch(() => ({}));
    if (response.ok) {
      retries = 0;
      handleReply(reply, revisions);
      if (dirty.size) schedule(TYPING_DELAY);
    } else if (response.status >= 500) {
      say("offline", word("server_down"));
      retryLater();
    } else {
      say("error", reply.message || reply.error || word("failed"));
    }
  }

  function changed(event) {
    const slot = event.target.closest("[data-slot]");
    if (!slot || event.target.getAttribute("form") !== "answers") return;
    revision += 1;
    dirty.set(slot.dataset.slot, revision);
    remember(slot.dataset.slot, stateOf(slot));
    updateRelevance();
    updateSlotDetails(slot);
    if (locked) return;
    say("pending", word("pending"));
    const typing = event.type === "input" && !["radio", "checkbox"].includes(event.target.type);
    schedule(typing ? TYPING_DELAY : CLICK_DELAY);
  }

  // --- Start. -----------------------------------------------------------------------------

  function restore() {
    const entries = readStore();
    let restored = 0;
    for (const [key, entry] of Object.entries(entries)) {
      const slot = slotByKey.get(key);
      if (!slot && entry && entry.posted) forget([key]);
      if (!slot || !entry || !entry.parts) continue;
      if (JSON.stringify(stateOf(slot)) === JSON.stringify(entry.parts)) {
        forget([key]);
        continue;
      }
      apply(slot, entry.parts);
      revision += 1;
      dirty.set(key, revision);
      restored += 1;
    }
    if (restored) {
      say("pending", `${restored} answer${restored === 1 ? "" : "s"} typed earlier in this browser ${restored === 1 ? "was" : "were"} not saved yet: sending ${restored === 1 ? "it" : "them"} now.`);
      schedule(0);
    }
  }

  slots.forEach(updateSlotDetails);
  updateRelevance();
  if (locked) return;
  restore();
  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
  window.addEventListener("online", () => {
    retries = 0;
    save();
  });
  // Leaving the page (closing the tab, following a link): send what is waiting.
  window.addEventListener("pagehide", () => save({ keepalive: true }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") save({ keepalive: true });
  });
  // The page's own buttons post every answer: nothing is left for autosave to send. The
  // browser's copy is marked as posted: dropped once another page loads (the post went
  // through), restored if this page comes back without it (it did not).
  form.addEventListener("submit", () => {
    window.clearTimeout(timer);
    dirty.clear();
    const entries = readStore();
    for (const key of slotByKey.keys()) {
      if (entries[key]) entries[key].posted = true;
    }
    writeStore(entries);
  });
})();
