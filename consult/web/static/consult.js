// Progressive enhancements. Every page works without this file: the forms it
// fills in are plain forms that people can fill in by hand.
//
// 1. After htmx swaps a region, focus moves to its first error or its heading,
//    and alerts are read out through the polite live region.
// 2. Selecting words in an article (mouse, touch) offers to annotate or amend
//    them: the forms get the alinéa, the quote and its surroundings.
// 3. A keyboard mode does the same without a pointer: arrows move between
//    alinéas, then between words; Shift widens the selection; Enter chooses.
// 4. Long text fields count their characters against the limit the page states.

const CONTEXT = 32;

function announce(text) {
  const announcer = document.getElementById("announcer");
  if (announcer) announcer.textContent = text;
}

function focusTarget(region) {
  // The error summary first (it links to each field), then a preview just asked for.
  return (
    region.querySelector(".error-summary") ||
    region.querySelector(".just-previewed") ||
    region.querySelector("[aria-invalid='true']") ||
    region.querySelector("[role='alert']") ||
    region.querySelector("h1[tabindex='-1'], h2[tabindex='-1'], h3[tabindex='-1']")
  );
}

function focus(element) {
  if (!element.hasAttribute("tabindex") && !element.matches("input, select, textarea, button, a")) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

document.addEventListener("htmx:after:swap", (event) => {
  const ctx = event.detail && event.detail.ctx;
  // An outerHTML swap replaces the target, so find its successor by id.
  const id = ctx && ctx.target && ctx.target.id;
  const region = (id && document.getElementById(id)) || document.getElementById("main");
  if (!region) return;
  if (!(region.id && region.id.startsWith("votes-"))) {
    const target = focusTarget(region);
    if (target) focus(target);
  }
  const alert = region.querySelector("[role='alert']");
  if (alert) announce(alert.textContent.trim());
  setUpArticle();
  setUpCounters(region);
});

// --- selecting a passage --------------------------------------------------------------

function alineaOf(node) {
  const element = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
  return element ? element.closest(".alinea") : null;
}

function offsetIn(container, node, offset) {
  const range = document.createRange();
  range.selectNodeContents(container);
  range.setEnd(node, offset);
  return range.toString().length;
}

function currentPassage() {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  const alinea = alineaOf(range.startContainer);
  if (!alinea || alinea !== alineaOf(range.endContainer)) return null;
  const text = alinea.querySelector(".alinea-text");
  if (!text || !text.contains(range.startContainer) || !text.contains(range.endContainer)) return null;
  const full = text.textContent;
  let start = offsetIn(text, range.startContainer, range.startOffset);
  let end = offsetIn(text, range.endContainer, range.endOffset);
  while (start < end && /\s/.test(full[start])) start += 1;
  while (end > start && /\s/.test(full[end - 1])) end -= 1;
  if (end <= start) return null;
  return {
    alinea: alinea.dataset.alinea,
    quote: full.slice(start, end),
    prefix: full.slice(Math.max(0, start - CONTEXT), start),
    suffix: full.slice(end, end + CONTEXT),
    start,
    element: alinea,
  };
}

function setField(form, name, value) {
  const field = form.elements.namedItem(name);
  if (field) field.value = value;
}

function openForm(id, passage) {
  const details = document.getElementById(id);
  const form = document.getElementById(`${id}-form`);
  if (!details || !form) return;
  details.open = true;
  if (id === "annotate") {
    setField(form, "alinea", passage.alinea);
    setField(form, "quote", passage.quote);
    setField(form, "prefix", passage.prefix);
    setField(form, "suffix", passage.suffix);
    setField(form, "start", String(passage.start));
    focus(form.elements.namedItem("body"));
  } else {
    setField(form, "operation", "replace_words");
    setField(form, "alinea", passage.alinea);
    setField(form, "old_text", passage.quote);
    setField(form, "new_text", passage.quote);
    focus(form.elements.namedItem("new_text"));
  }
}

let lastPassage = null;

function showToolbar(passage) {
  const toolbar = document.getElementById("selection-toolbar");
  if (!toolbar) return;
  lastPassage = passage;
  if (!passage) {
    toolbar.hidden = true;
    return;
  }
  toolbar.querySelector(".selection-quote").textContent = `« ${passage.quote} »`;
  // Right under the selected alinéa, where the reader's eyes and finger are (moving the
  // element needs no inline style, which the Content-Security-Policy forbids).
  if (passage.element && toolbar.parentElement !== passage.element) {
    passage.element.append(toolbar);
  }
  toolbar.hidden = false;
}

function onSelectionChange() {
  if (keyboard.active) return;
  const passage = currentPassage();
  if (passage) showToolbar(passage);
}

// --- keyboard mode --------------------------------------------------------------------

const keyboard = { active: false, alinea: 0, words: [], from: 0, to: 0, selecting: false };

function alineas() {
  return Array.from(document.querySelectorAll("#alineas .alinea"));
}

function wordsOf(alinea) {
  const text = alinea.querySelector(".alinea-text").textContent;
  return Array.from(text.matchAll(/\S+/g), (m) => ({ start: m.index, end: m.index + m[0].length }));
}

function selectWords() {
  const alinea = alineas()[keyboard.alinea];
  const text = alinea.querySelector(".alinea-text");
  const from = keyboard.words[keyboard.from];
  const to = keyboard.words[keyboard.to];
  const range = document.createRange();
  const locate = (offset) => {
    const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
    let seen = 0;
    while (walker.nextNode()) {
      const length = walker.currentNode.textContent.length;
      if (offset <= seen + length) return [walker.currentNode, offset - seen];
      seen += length;
    }
    return [text, text.childNodes.length];
  };
  range.setStart(...locate(from.start));
  range.setEnd(...locate(to.end));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  announce(selection.toString());
}

function highlightAlinea() {
  alineas().forEach((element, index) => {
    element.classList.toggle("selecting", index === keyboard.alinea);
    if (index === keyboard.alinea) {
      element.setAttribute("tabindex", "-1");
      element.focus();
      const label = element.querySelector(".visually-hidden");
      announce(`${label ? label.textContent : ""} ${element.querySelector(".alinea-text").textContent}`);
    }
  });
}

function startKeyboardMode() {
  keyboard.active = true;
  keyboard.alinea = 0;
  keyboard.selecting = false;
  document.body.classList.add("keyboard-annotating");
  highlightAlinea();
}

function stopKeyboardMode() {
  keyboard.active = false;
  document.body.classList.remove("keyboard-annotating");
  alineas().forEach((element) => element.classList.remove("selecting"));
}

document.addEventListener("keydown", (event) => {
  if (!keyboard.active) return;
  const count = alineas().length;
  if (event.key === "Escape") {
    event.preventDefault();
    stopKeyboardMode();
    const button = document.getElementById("keyboard-annotate");
    if (button) button.focus();
    return;
  }
  if (!keyboard.selecting) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      keyboard.alinea = (keyboard.alinea + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      highlightAlinea();
    } else if (event.key === "Enter") {
      event.preventDefault();
      keyboard.words = wordsOf(alineas()[keyboard.alinea]);
      keyboard.from = 0;
      keyboard.to = 0;
      keyboard.selecting = true;
      selectWords();
    }
    return;
  }
  const last = keyboard.words.length - 1;
  if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
    event.preventDefault();
    const step = event.key === "ArrowRight" ? 1 : -1;
    if (event.shiftKey) {
      keyboard.to = Math.min(last, Math.max(keyboard.from, keyboard.to + step));
    } else {
      keyboard.from = Math.min(last, Math.max(0, keyboard.from + step));
      keyboard.to = keyboard.from;
    }
    selectWords();
  } else if (event.key === "Enter") {
    event.preventDefault();
    const passage = currentPassage();
    stopKeyboardMode();
    if (passage) showToolbar(passage);
    const first = document.querySelector("#selection-toolbar button");
    if (first) first.focus();
  }
});

function setUpArticle() {
  const toolbar = document.getElementById("selection-toolbar");
  const keyboardButton = document.getElementById("keyboard-annotate");
  if (keyboardButton && !keyboardButton.dataset.ready) {
    keyboardButton.dataset.ready = "1";
    keyboardButton.hidden = false;
    keyboardButton.addEventListener("click", startKeyboardMode);
  }
  if (toolbar && !toolbar.dataset.ready) {
    toolbar.dataset.ready = "1";
    toolbar.querySelectorAll("button[data-form]").forEach((button) => {
      // Pressing a toolbar button must not clear the selection it acts on.
      button.addEventListener("mousedown", (event) => event.preventDefault());
      button.addEventListener("click", () => {
        const passage = currentPassage() || lastPassage;
        if (passage) openForm(button.dataset.form, passage);
        toolbar.hidden = true;
      });
    });
  }
}

document.addEventListener("selectionchange", () => {
  clearTimeout(onSelectionChange.timer);
  onSelectionChange.timer = setTimeout(onSelectionChange, 150);
});

// --- character counters -----------------------------------------------------------------

function counterText(hint, left) {
  // The page gives the sentences in the reader's language, with {n} for the number.
  const lang = document.documentElement.lang || "fr";
  const template = left >= 0 ? hint.dataset.left : hint.dataset.over;
  return template.replace("{n}", Math.abs(left).toLocaleString(lang));
}

function setUpCounters(root) {
  (root || document).querySelectorAll(".char-count[data-for]").forEach((hint) => {
    const field = document.getElementById(hint.dataset.for);
    if (!field || field.dataset.counted) return;
    field.dataset.counted = "1";
    const limit = Number(hint.dataset.limit);
    // The count is read out only when the reader pauses, and only near or past the limit.
    const live = document.createElement("span");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    hint.after(live);
    let timer = null;
    const update = () => {
      const left = limit - field.value.length;
      hint.textContent = counterText(hint, left);
      hint.classList.toggle("over-limit", left < 0);
      clearTimeout(timer);
      timer = setTimeout(() => {
        live.textContent = left < limit * 0.1 ? hint.textContent : "";
      }, 1000);
    };
    field.addEventListener("input", update);
    update();
  });
}

setUpArticle();
setUpCounters(document);
