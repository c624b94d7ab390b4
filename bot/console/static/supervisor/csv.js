/*
 * CSV downloads: every table's API answers `?format=csv`. The request carries the session's
 * bearer token, so the file is fetched here and handed to the browser as a download.
 */

import { showError } from "../lib/alert.js";
import { ApiFailure } from "../lib/api.js";
import { currentSession } from "../lib/session.js";

const FILENAME = /filename="?([^";]+)"?/;

async function failure(response) {
  let detail = {};
  try {
    detail = (await response.json()).error || {};
  } catch (error) {
    detail = {};
  }
  return new ApiFailure(response.status, detail.code || "http_error", detail.message || `HTTP ${response.status}`);
}

/** Downloads `path` with `query` (URLSearchParams) as CSV, named `fallbackName` unless the API names it. */
export async function downloadCsv(path, query, fallbackName) {
  const params = new URLSearchParams(query);
  params.set("format", "csv");
  const session = currentSession();
  try {
    const response = await fetch(`${path}?${params}`, {
      headers: { Accept: "text/csv", Authorization: `Bearer ${session ? session.token : ""}` },
    });
    if (!response.ok) {
      throw await failure(response);
    }
    const named = FILENAME.exec(response.headers.get("Content-Disposition") || "");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await response.blob());
    link.download = named ? named[1] : fallbackName;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    showError(error instanceof ApiFailure ? error : new ApiFailure(0, "unreachable", String(error.message || error)));
  }
}
