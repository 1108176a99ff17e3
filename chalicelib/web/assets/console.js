// keyport console enhancements; every page works without this file.
// A button with data-copy="<text>" copies the text and says so.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button || !navigator.clipboard) return;
  event.preventDefault();
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    button.textContent = button.dataset.copied || "✓";
  });
});
// A form with data-confirm="<question>" asks before it is sent (the server asks again where it matters).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
