// Progressive enhancements. Every page works without this file.
//
// After htmx swaps a region, move keyboard focus to its first error or its
// heading, so keyboard and screen-reader users land on what changed, and
// read alerts out through the polite live region.

function focusTarget(region) {
  return (
    region.querySelector("[aria-invalid='true']") ||
    region.querySelector("[role='alert']") ||
    region.querySelector("h1[tabindex='-1'], h2[tabindex='-1']")
  );
}

document.addEventListener("htmx:after:swap", (event) => {
  const ctx = event.detail && event.detail.ctx;
  // An outerHTML swap replaces the target, so find its successor by id.
  const id = ctx && ctx.target && ctx.target.id;
  const region = (id && document.getElementById(id)) || document.getElementById("main");
  if (!region) return;
  const target = focusTarget(region);
  if (target) {
    if (!target.hasAttribute("tabindex") && !target.matches("input, select, textarea, button, a")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }
  const alert = region.querySelector("[role='alert']");
  const announcer = document.getElementById("announcer");
  if (alert && announcer) {
    announcer.textContent = alert.textContent.trim();
  }
});
