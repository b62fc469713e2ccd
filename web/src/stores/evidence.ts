/** Evidence files taken or picked on the phone: shrunk if photos, kept in IndexedDB,
 * and queued for upload under the evidence's own client id (a retried upload
 * never makes a second record: the gateway answers the first). */
import { db, type PendingFile } from "./db";
import { newId } from "./outbox";
import { queue, touched } from "./sync";
import { shrinkPhoto } from "../domain/photo";
import { currentPosition } from "../domain/geo";

export const MAX_BYTES = 25 * 1024 * 1024; // the server's default limit (EVIDENCE_MAX_BYTES)

export async function addEvidence(file: File, action: { id: string }, planId: string, fromCamera: boolean): Promise<PendingFile> {
  const position = fromCamera ? await currentPosition(8_000) : null;
  const shrunk = await shrinkPhoto(file, position).catch(() => null);
  const id = newId();
  const name = shrunk ? file.name.replace(/\.[^.]+$/, "") + ".jpg" : file.name;
  const pending: PendingFile = {
    id, action_id: action.id, plan_id: planId, filename: name || "photo.jpg",
    content_type: shrunk ? "image/jpeg" : (file.type || "application/octet-stream"),
    blob: shrunk ? shrunk.blob : file, size: shrunk ? shrunk.blob.size : file.size,
    created_at: new Date().toISOString(), progress: 0,
  };
  if (pending.size > MAX_BYTES) throw new Error("too_large");
  await (await db()).put("files", pending);
  touched();
  await queue("evidence", id, undefined, { id, plan_id: planId });
  return pending;
}
