/** A server refusal in the user's language: what it is (our own title, by status)
 * and why (the server's text in that language): see domain/problems.ts. */
import type { Problem } from "../api/types";
import type { OpKind } from "../stores/db";
import { problemLines, problemTitle } from "../domain/problems";
import { t } from "../i18n";

export function ProblemText({ problem, kind }: { problem: Problem | null | undefined; kind?: OpKind }) {
  if (!problem) return null;
  const lines = problemLines(problem);
  return (
    <>
      <p>
        <strong>{problemTitle(problem, kind)}</strong>
        {lines.length === 1 && <>{t("common.colon")}{lines[0]}</>}
      </p>
      {lines.length > 1 && <ul>{lines.map((line) => <li>{line}</li>)}</ul>}
    </>
  );
}
