/** Small pieces shared by the desk views: loading and problem notices, the
 * traffic light. */
import { t } from "../i18n";
import { ApiProblem } from "./api";
import type { Light } from "./progress";

export function Loading() {
  return <p class="desk-loading" role="status">{t("desk.loading")}</p>;
}

export function Problem({ error, retry }: { error: unknown; retry?: () => void }) {
  const detail = error instanceof ApiProblem
    ? (error.problem.detail || error.problem.title)
    : error instanceof Error ? error.message : String(error);
  return (
    <div class="desk-problem" role="alert">
      <p>{t("desk.problem")} <span class="detail">{detail}</span></p>
      {retry && <button type="button" onClick={retry}>{t("desk.retry")}</button>}
    </div>
  );
}

export function TrafficLight({ light }: { light: Light }) {
  return (
    <span class={`light light-${light}`}>
      <span class="lamp" aria-hidden="true" />
      {t(`desk.light.${light}` as "desk.light.green")}
    </span>
  );
}
