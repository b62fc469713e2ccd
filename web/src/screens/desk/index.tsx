/** The desk view (issue 14: map, live progress, review queue, facility page,
 * leaderboard, exports) for coaches, champions and managers. Its screens live in
 * this folder and are routed below `/desk` by this module's own Router. */
import { Shell } from "../../components/Shell";
import { t } from "../../i18n";

export default function Desk() {
  return (
    <Shell title={t("desk.title")}>
      <p>{t("desk.coming")}</p>
      <p><a href="/plans">{t("nav.plans")}</a></p>
    </Shell>
  );
}
