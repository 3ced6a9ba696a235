import { ref } from "vue";

/**
 * Which side of the app the page shows: `#/ride` for passengers, `#/operate` (or no hash)
 * for the operators' live map. A hash route needs nothing from the server that serves
 * `web/dist`, and a passenger can bookmark `/#/ride`.
 */
export type Mode = "ride" | "operate";

function fromHash(): Mode {
  return location.hash.replace(/^#\/?/, "").startsWith("ride") ? "ride" : "operate";
}

export const mode = ref<Mode>(fromHash());

window.addEventListener("hashchange", () => {
  mode.value = fromHash();
});

export function setMode(m: Mode): void {
  if (mode.value === m && location.hash) return;
  history.replaceState(null, "", `#/${m}`);
  mode.value = m;
}
