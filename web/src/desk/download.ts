/** Downloads of the exports (CSV) and of a visit report (PDF). They need the
 * bearer token, which a plain link cannot carry: the file is fetched through
 * the API client, then handed to the browser as a download. */
import { api, asProblem } from "../api/client";
import { lang } from "../i18n";
import { ApiProblem } from "./api";

function save(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function slug(text: string) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "").toLowerCase();
}

export interface ExportFilters { since?: string; until?: string; district_id?: string; template?: string }

export async function downloadExport(kind: "visits" | "gaps", filters: ExportFilters): Promise<void> {
  const query = Object.fromEntries(Object.entries(filters).filter(([, v]) => v));
  const path = kind === "visits" ? "/api/v1/exports/visits.csv" : "/api/v1/exports/gaps.csv";
  const { data, error, response } = await api.GET(path, { params: { query }, parseAs: "blob" });
  if (!response.ok || !data) throw new ApiProblem(asProblem(error, response.status));
  save(data as Blob, `c2p-${kind}-${filters.since ?? ""}-${filters.until ?? ""}.csv`);
}

export async function downloadReport(submissionId: string, facility: string, visitedAt: string): Promise<void> {
  const { data, error, response } = await api.GET("/api/v1/submissions/{submission_id}/report.pdf", {
    params: { path: { submission_id: submissionId }, query: { lang: lang.value } }, parseAs: "blob" });
  if (!response.ok || !data) throw new ApiProblem(asProblem(error, response.status));
  save(data as Blob, `c2p-visite-${slug(facility)}-${visitedAt.slice(0, 10)}.pdf`);
}
