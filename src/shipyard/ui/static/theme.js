// Runs before first paint: apply the stored theme choice so the page never flashes the other one.
(function () {
  var stored = null;
  try { stored = window.localStorage.getItem("shipyard-theme"); } catch (e) { stored = null; }
  if (stored === "dark" || stored === "light") { document.documentElement.dataset.theme = stored; }
})();
