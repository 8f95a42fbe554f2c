/** The settings UI's script, served at /ui.js (src/ui/static-files.ts). Plain JavaScript: no `${` or backquote. */
export const UI_SCRIPT = `// Small enhancements only; every page works without this file.
// Copy buttons: shown only where the Clipboard API exists.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch {
      input.select();
      button.textContent = "Press Ctrl+C to copy";
    }
    setTimeout(() => {
      button.textContent = "Copy";
    }, 2000);
  });
}
// Long JSON: "Expand all" / "Collapse all" for pages with several snapshots.
const snapshots = document.querySelectorAll("details.json");
if (snapshots.length > 2) {
  const first = snapshots[0];
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "secondary";
  toggle.textContent = "Expand all snapshots";
  toggle.addEventListener("click", () => {
    const open = toggle.textContent.startsWith("Expand");
    for (const d of snapshots) d.open = open;
    toggle.textContent = open ? "Collapse all snapshots" : "Expand all snapshots";
  });
  first.parentElement.closest("section")?.insertBefore(toggle, first.closest("section ol") ?? null);
}
`;
