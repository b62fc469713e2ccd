/** How each kind of outbox item reaches the API (the outbox decides when).
 *
 * The answer's status decides what happens to the item: 2xx done (200 is a
 * replay of something already stored: done too); 409/422/400/403/404 are refusals
 * to show the user; 401 means renew the session; anything else, or no answer,
 * is retried later. */
import { api, asProblem } from "../api/client";
import type { OutboxItem } from "./db";
import type { Outcome } from "./outbox";
import type { SubmissionRequest, GrowNotes, StatusChange, Schemas } from "../api/types";
import { db } from "./db";
import { session } from "./session";
import { signal } from "@preact/signals";

/** Upload progress of evidence files, by evidence id (0..1). */
export const uploadProgress = signal<Record<string, number>>({});

function classify(status: number, error: unknown, data?: unknown): Outcome {
  if (status >= 200 && status < 300) return { kind: "done", data };
  if (status === 401) return { kind: "auth" };
  if ([400, 403, 404, 409, 413, 415, 422].includes(status)) {
    return { kind: "needs_fix", problem: asProblem(error, status) };
  }
  return { kind: "retry", error: `HTTP ${status}` };
}

export async function send(item: OutboxItem): Promise<Outcome> {
  switch (item.kind) {
    case "submission": {
      const r = await api.POST("/api/v1/submissions", { body: item.body as SubmissionRequest });
      return classify(r.response.status, r.error, r.data);
    }
    case "plan.agree": {
      const r = await api.POST("/api/v1/plans/{plan_id}/agree", { params: { path: { plan_id: item.ref } } });
      return classify(r.response.status, r.error, r.data);
    }
    case "plan.grow": {
      const r = await api.PUT("/api/v1/plans/{plan_id}/grow", {
        params: { path: { plan_id: item.ref } }, body: item.body as GrowNotes,
      });
      return classify(r.response.status, r.error, r.data);
    }
    case "action.status": {
      const body = item.body as StatusChange;
      const plan_id = item.plan_id as string;
      const r = await api.POST("/api/v1/plans/{plan_id}/actions/{action_id}/status", {
        params: { path: { plan_id, action_id: item.ref } }, body,
      });
      if (r.response.status === 409) {
        // A retry whose first answer was lost: "already in that status" is success.
        const now = await api.GET("/api/v1/plans/{plan_id}", { params: { path: { plan_id } } });
        const action = now.data?.actions.find((a) => a.id === item.ref);
        if (action?.status === body.status) return { kind: "done", data: now.data };
      }
      return classify(r.response.status, r.error, r.data);
    }
    case "evidence":
      return uploadEvidence(item);
    case "evidence.review": {
      const r = await api.POST("/api/v1/evidence/{evidence_id}/review", {
        params: { path: { evidence_id: item.ref } }, body: item.body as Schemas["ReviewRequest"],
      });
      return classify(r.response.status, r.error, r.data);
    }
    case "inbox.read": {
      const r = await api.POST("/api/v1/inbox/{message_id}/read", { params: { path: { message_id: item.ref } } });
      return classify(r.response.status === 404 ? 200 : r.response.status, r.error, r.data);
    }
  }
}

/** PUT the file's bytes through the gateway (streamed to the object store), with progress. */
async function uploadEvidence(item: OutboxItem): Promise<Outcome> {
  const file = await (await db()).get("files", item.ref);
  if (!file) return { kind: "done" }; // already sent and cleaned up
  const query = new URLSearchParams({ action_id: file.action_id, filename: file.filename });
  const token = session.value?.access_token;
  return new Promise<Outcome>((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/evidence/${encodeURIComponent(file.id)}/content?${query}`);
    xhr.setRequestHeader("Content-Type", file.content_type);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.timeout = 10 * 60_000;
    const progress = (value: number) => {
      uploadProgress.value = { ...uploadProgress.value, [file.id]: value };
    };
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) progress(event.loaded / event.total); };
    xhr.onload = () => {
      let body: unknown = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      progress(xhr.status < 300 ? 1 : 0);
      resolve(classify(xhr.status, body, body));
    };
    xhr.onerror = () => { progress(0); resolve({ kind: "retry", error: "network" }); };
    xhr.ontimeout = () => { progress(0); resolve({ kind: "retry", error: "timeout" }); };
    xhr.send(file.blob);
  });
}
