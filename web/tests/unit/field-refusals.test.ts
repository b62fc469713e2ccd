// What the field app tells of a change the server refused: never "waiting" nor
// "all sent", always why, in the user's language (the server's title is English).
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { db, wipe, type PendingFile } from "../../src/stores/db";
import * as outbox from "../../src/stores/outbox";
import { problemDetail, problemLines, problemReason, problemTitle } from "../../src/domain/problems";
import { refusalOf, refusedBadge, sendState, syncHeadline } from "../../src/domain/sending";
import { lang } from "../../src/i18n";
import type { Problem } from "../../src/api/types";

// As the evidence service words a file that is not a photo nor a PDF (problem+json).
const badFile: Problem = {
  type: "about:blank", title: "Invalid input", status: 422,
  detail: "Invalid input: file: the file is not a JPEG, PNG, WebP or HEIC photo, nor a PDF",
  detail_fr: "Données invalides\u00a0: file\u00a0: le fichier n'est ni une photo JPEG, PNG, WebP ou HEIC, ni un PDF",
  errors: [{
    field: "file", reason: "the file is not a JPEG, PNG, WebP or HEIC photo, nor a PDF",
    reason_en: "the file is not a JPEG, PNG, WebP or HEIC photo, nor a PDF",
    reason_fr: "le fichier n'est ni une photo JPEG, PNG, WebP ou HEIC, ni un PDF",
  }],
};

afterEach(() => { lang.value = "fr"; });

describe("a server refusal, in the user's language", () => {
  it("titles it from the app's catalogue, never the server's English title", () => {
    lang.value = "fr";
    expect(problemTitle(badFile)).toBe("Données refusées");
    expect(problemTitle(badFile, "evidence")).toBe("Fichier refusé");
    expect(problemTitle({ status: 403 })).toBe("Non autorisé pour votre compte");
    expect(problemTitle({ status: 418 })).toBe("Refusé par le serveur");
    lang.value = "en";
    expect(problemTitle(badFile, "evidence")).toBe("File refused");
    expect(problemTitle({ status: 409 })).toBe("In conflict with what the server already has");
  });

  it("gives the reason in French in French and in English in English", () => {
    lang.value = "fr";
    expect(problemLines(badFile)).toEqual(["le fichier n'est ni une photo JPEG, PNG, WebP ou HEIC, ni un PDF"]);
    lang.value = "en";
    // There is no `detail_en`: pick() would have fallen back to the French.
    expect(problemLines(badFile)).toEqual(["the file is not a JPEG, PNG, WebP or HEIC photo, nor a PDF"]);
    expect(problemDetail(badFile)).toBe(badFile.detail);
    lang.value = "fr";
    expect(problemDetail(badFile)).toBe(badFile.detail_fr);
  });

  it("shows the detail when no field is named, and names the fields when there are several", () => {
    lang.value = "fr";
    const conflict: Problem = { type: "about:blank", title: "Conflict", status: 409, detail: "already agreed",
      detail_fr: "déjà validé" };
    expect(problemLines(conflict)).toEqual(["déjà validé"]);
    const two: Problem = { ...badFile, errors: [
      { field: "answers.a", reason: "x", reason_en: "required", reason_fr: "réponse requise" },
      { field: "answers.b", reason: "y", reason_en: "out of range", reason_fr: "hors limites" },
    ] };
    expect(problemLines(two)).toEqual(["answers.a\u00a0: réponse requise", "answers.b\u00a0: hors limites"]);
    expect(problemReason(two)).toBe("answers.a\u00a0: réponse requise\u00a0; answers.b\u00a0: hors limites");
    // one kept from an older server has only `reason`
    expect(problemLines({ ...badFile, errors: [{ field: "file", reason: "too big" }] })).toEqual(["too big"]);
  });
});

describe("how a refused change is summarised", () => {
  it("reads as refused, never as waiting, whatever else waits", () => {
    expect(sendState([])).toBe("sent");
    expect(sendState([{ state: "waiting" }])).toBe("waiting");
    expect(sendState([{ state: "waiting" }, { state: "needs_fix" }])).toBe("refused");
    expect(refusalOf([{ state: "waiting", id: "a" }, { state: "needs_fix", id: "b" }])?.id).toBe("b");
  });

  it("never says everything is sent while something must be corrected", () => {
    lang.value = "fr";
    expect(syncHeadline(0, 0)).toBe("Tout est envoyé");
    expect(syncHeadline(0, 1)).not.toBe("Tout est envoyé");
    expect(syncHeadline(0, 1)).toBe("Rien d'autre en attente d'envoi");
    expect(syncHeadline(2, 1)).toBe("2 en attente d'envoi");
    expect(refusedBadge(1)).toBe("1 refusé, à corriger");
    expect(refusedBadge(2)).toBe("2 refusés, à corriger");
    lang.value = "en";
    expect(syncHeadline(0, 1)).toBe("Nothing else waiting to be sent");
    expect(refusedBadge(1)).toBe("1 refused, needs fixing");
  });
});

describe("the outbox keeps what the sync bar says of a refusal", () => {
  beforeEach(async () => { await wipe(); });

  it("counts it and keeps the oldest refusal's kind and problem", async () => {
    await outbox.enqueue("evidence", "file-1", undefined, { id: "file-1", plan_id: "plan-1" });
    await outbox.enqueue("plan.agree", "plan-1");
    await outbox.flush(async (item) =>
      item.kind === "evidence" ? { kind: "needs_fix", problem: badFile } : { kind: "done" });
    expect(outbox.needsFixCount.value).toBe(1);
    expect(outbox.waitingCount.value).toBe(0);
    expect(outbox.firstRefusal.value?.kind).toBe("evidence");
    expect(outbox.firstRefusal.value?.problem?.status).toBe(422);
  });

  it("discarding a refused file removes its bytes too, so nothing shows it waiting", async () => {
    const file: PendingFile = { id: "file-1", action_id: "action-1", plan_id: "plan-1", filename: "fake.jpg",
      content_type: "image/jpeg", blob: new Blob(["not a photo"]), size: 11, created_at: "", progress: 0 };
    await (await db()).put("files", file);
    await outbox.enqueue("evidence", "file-1", undefined, { id: "file-1", plan_id: "plan-1" });
    await outbox.flush(async () => ({ kind: "needs_fix", problem: badFile }));
    await outbox.discard("file-1");
    expect(await outbox.list()).toEqual([]);
    expect(await (await db()).get("files", "file-1")).toBeUndefined();
    expect(outbox.needsFixCount.value).toBe(0);
    expect(outbox.firstRefusal.value).toBeNull();
  });
});
