/* How the console's pages write ages, times, scores and identifiers for people. */

export function formatAge(iso) {
  const minutes = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 60000));
  if (Number.isNaN(minutes)) {
    return "";
  }
  if (minutes < 1) {
    return "less than a minute";
  }
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ""
    : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)}%` : "n/a";
}

/** An identifier such as `card_arrival` as words: "card arrival". */
export function humanize(name) {
  return String(name || "unknown").replace(/_/g, " ");
}
